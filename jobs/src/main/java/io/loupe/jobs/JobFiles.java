package io.loupe.jobs;

import com.google.gson.GsonBuilder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Small file operations every job's driver or task does on Hadoop paths (local, HDFS, S3, DBFS). */
public final class JobFiles {
    private JobFiles() {
    }

    /** {@code uri} as a fully qualified URI, so executors resolve it as the driver does. */
    public static String qualify(String uri, Configuration conf) throws IOException {
        Path p = new Path(uri);
        return p.getFileSystem(conf).makeQualified(p).toString();
    }

    /** Writes {@code value} as pretty JSON (NaN and null kept) to {@code file}, replacing it. */
    public static void writeJson(Configuration conf, Path file, Object value) throws IOException {
        String json = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().serializeNulls().create().toJson(value) + "\n";
        try (var os = file.getFileSystem(conf).create(file, true)) {
            os.write(json.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Writes one CSV file (RFC 4180: a header line, fields quoted when they hold a comma, quote or line break; NaN and
     * null as empty fields), replacing it: one file a spreadsheet opens, not a folder of Spark part files.
     */
    public static void writeCsv(Configuration conf, Path file, List<String> header, List<List<Object>> rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        csvLine(sb, new ArrayList<>(header));
        rows.forEach(r -> csvLine(sb, r));
        try (var os = file.getFileSystem(conf).create(file, true)) {
            os.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void csvLine(StringBuilder sb, List<?> fields) {
        for (int i = 0; i < fields.size(); i++) {
            Object v = fields.get(i);
            String s = v == null || (v instanceof Double d && d.isNaN()) || (v instanceof Float f && f.isNaN()) ? "" : v.toString();
            if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
                s = '"' + s.replace("\"", "\"\"") + '"';
            }
            sb.append(i == 0 ? "" : ",").append(s);
        }
        sb.append('\n');
    }

    /**
     * Publishes a finished local folder at {@code dst}: copied beside it under a temporary name, then renamed into
     * place (atomic on local file systems and HDFS), so {@code dst} never holds a half-copied folder.
     */
    public static void publishDir(Configuration conf, java.nio.file.Path local, Path dst) throws IOException {
        FileSystem fs = dst.getFileSystem(conf);
        Path partial = new Path(dst.getParent(), "." + dst.getName() + ".partial");
        fs.delete(partial, true);
        fs.copyFromLocalFile(false, true, new Path(local.toUri()), partial);
        fs.delete(dst, true);
        if (!fs.rename(partial, dst)) {
            throw new IOException("could not rename " + partial + " to " + dst);
        }
    }

    /** Copies every file of the local folder {@code local} into {@code dst} (replacing same-named files, keeping others), then deletes {@code local}. */
    public static void copyFilesInto(Configuration conf, java.nio.file.Path local, Path dst) throws IOException {
        FileSystem fs = dst.getFileSystem(conf);
        fs.mkdirs(dst);
        try (var files = java.nio.file.Files.list(local)) {
            for (java.nio.file.Path f : files.toList()) {
                fs.copyFromLocalFile(true, true, new Path(f.toUri()), new Path(dst, f.getFileName().toString()));
            }
        }
        java.nio.file.Files.deleteIfExists(local);
    }

    /** Replaces {@code dst} by the local folder {@code local} (moved, not copied), so a re-run or retry leaves one copy. */
    public static void replaceWithLocal(Configuration conf, java.nio.file.Path local, Path dst) throws IOException {
        FileSystem fs = dst.getFileSystem(conf);
        fs.delete(dst, true);
        fs.copyFromLocalFile(true, true, new Path(local.toUri()), dst);
    }
}
