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
import java.util.List;

/**
 * Reads one hook's rows of a collect dataset inside a Spark task (no SparkSession there), straight from
 * the {@code hook=<name>/} Parquet files with parquet-hadoop.
 */
final class ActivationReader {
    private ActivationReader() {
    }

    static List<FitRun.Row> read(Configuration conf, String dataset, String hook, ValueDtype dtype) throws IOException {
        Path dir = new Path(dataset, "hook=" + hook);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            throw new IllegalArgumentException(dataset + " has no partition hook=" + hook);
        }
        List<FitRun.Row> rows = new ArrayList<>();
        for (FileStatus f : fs.listStatus(dir, p -> p.getName().endsWith(".parquet"))) {
            try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), f.getPath()).withConf(conf).build()) {
                for (Group g = r.read(); g != null; g = r.read()) {
                    rows.add(new FitRun.Row(g.getString("example_id", 0), g.getInteger("position", 0), g.getInteger("token_id", 0),
                            dtype.decode(g.getBinary("values", 0).getBytes())));
                }
            }
        }
        return rows;
    }
}
