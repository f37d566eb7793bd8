package io.loupe.jobs.fit;

import io.loupe.collect.ValueDtype;
import io.loupe.dict.FitRun;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one hook's rows of a collect dataset inside a Spark task (no SparkSession there), straight from
 * the {@code hook=<name>/} Parquet files with parquet-hadoop.
 */
final class ActivationReader {
    private ActivationReader() {
    }

    /**
     * Transcoder rows: for every token stored at both hooks, the source's values followed by the target's.
     * Every token must be at both (a collect run writes all its hooks for every token); a mismatch is an error.
     */
    static List<FitRun.Row> readPairs(Configuration conf, String dataset, String source, String target, ValueDtype dtype) throws IOException {
        Map<String, FitRun.Row> byToken = new HashMap<>();
        for (FitRun.Row r : read(conf, dataset, target, dtype)) {
            byToken.put(r.exampleId() + "@" + r.position(), r);
        }
        List<FitRun.Row> out = new ArrayList<>();
        long missing = 0;
        for (FitRun.Row r : read(conf, dataset, source, dtype)) {
            FitRun.Row t = byToken.remove(r.exampleId() + "@" + r.position());
            if (t == null) {
                missing++;
                continue;
            }
            float[] both = java.util.Arrays.copyOf(r.values(), r.values().length + t.values().length);
            System.arraycopy(t.values(), 0, both, r.values().length, t.values().length);
            out.add(new FitRun.Row(r.exampleId(), r.position(), r.tokenId(), both));
        }
        if (missing > 0 || !byToken.isEmpty()) {
            throw new IllegalArgumentException(dataset + ": " + missing + " tokens of " + source + " are missing at " + target + " and "
                    + byToken.size() + " the other way; a transcoder needs both hooks from the same collect run");
        }
        return out;
    }

    /**
     * Opens one hook's rows as a stream that mixes its files: up to {@value #OPEN_FILES} files (in name
     * order) are read at once, one row from each in turn, the next group after. The same rows in the same
     * order every time it is opened.
     */
    static java.util.function.Supplier<java.util.Iterator<FitRun.Row>> stream(Configuration conf, String dataset, String hook, ValueDtype dtype)
            throws IOException {
        List<Path> files = files(conf, dataset, hook);
        return () -> new java.util.Iterator<>() {
            private int nextFile;
            private final List<ParquetReader<Group>> open = new ArrayList<>();
            private int turn;
            private FitRun.Row pending = advance();

            private FitRun.Row advance() {
                try {
                    while (true) {
                        if (open.isEmpty()) {
                            if (nextFile == files.size()) {
                                return null;
                            }
                            for (int i = 0; i < OPEN_FILES && nextFile < files.size(); i++) {
                                open.add(ParquetReader.builder(new GroupReadSupport(), files.get(nextFile++)).withConf(conf).build());
                            }
                            turn = 0;
                        }
                        turn %= open.size();
                        Group g = open.get(turn).read();
                        if (g == null) {
                            open.remove(turn).close();
                            continue;
                        }
                        turn++;
                        return row(g, dtype);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException("reading " + dataset + " hook=" + hook, e);
                }
            }

            public boolean hasNext() {
                return pending != null;
            }

            public FitRun.Row next() {
                FitRun.Row r = pending;
                pending = advance();
                return r;
            }
        };
    }

    private static final int OPEN_FILES = 16;

    private static List<Path> files(Configuration conf, String dataset, String hook) throws IOException {
        Path dir = new Path(dataset, "hook=" + hook);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            throw new IllegalArgumentException(dataset + " has no partition hook=" + hook);
        }
        List<Path> files = new ArrayList<>();
        for (FileStatus f : fs.listStatus(dir, p -> p.getName().endsWith(".parquet"))) {
            files.add(f.getPath());
        }
        files.sort(java.util.Comparator.comparing(Path::getName));
        return files;
    }

    private static FitRun.Row row(Group g, ValueDtype dtype) {
        return new FitRun.Row(g.getString("example_id", 0), g.getInteger("position", 0), g.getInteger("token_id", 0),
                dtype.decode(g.getBinary("values", 0).getBytes()));
    }

    static List<FitRun.Row> read(Configuration conf, String dataset, String hook, ValueDtype dtype) throws IOException {
        List<FitRun.Row> rows = new ArrayList<>();
        for (Path f : files(conf, dataset, hook)) {
            try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), f).withConf(conf).build()) {
                for (Group g = r.read(); g != null; g = r.read()) {
                    rows.add(row(g, dtype));
                }
            }
        }
        return rows;
    }
}
