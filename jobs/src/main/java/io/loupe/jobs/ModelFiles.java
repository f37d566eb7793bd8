package io.loupe.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A model directory named by any Hadoop URI ({@code /local}, {@code file:}, {@code s3a://}, {@code dbfs:/}, {@code abfss://})
 * as a local directory: local paths as they are, others copied once per JVM into the temp folder.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static synchronized Path local(String uri, Configuration conf) throws IOException {
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
        FileSystem fs = src.getFileSystem(conf);
        if (fs instanceof LocalFileSystem || "file".equals(fs.getScheme())) {
            return Path.of(fs.makeQualified(src).toUri());
        }
        if (!fs.exists(src) || !fs.getFileStatus(src).isDirectory()) {
            throw new IllegalArgumentException(uri + ": model directory does not exist");
        }
        Path dst = Path.of(System.getProperty("java.io.tmpdir"), "loupe-models", sha1(uri));
        Path done = dst.resolve(".complete");
        if (!Files.exists(done)) {
            Files.createDirectories(dst);
            for (FileStatus f : fs.listStatus(src)) {
                if (f.isFile()) {
                    fs.copyToLocalFile(false, f.getPath(), new org.apache.hadoop.fs.Path(dst.resolve(f.getPath().getName()).toUri()), true);
                }
            }
            Files.writeString(done, uri);
        }
        return dst;
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
