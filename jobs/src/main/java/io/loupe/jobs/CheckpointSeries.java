package io.loupe.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint series in the layout Pythia's local copies and {@code loupe train} use: a folder of {@code step<N>}
 * model directories ({@code <dir>/step1000}, {@code <dir>/step2000}, …), taken in step order.
 */
public final class CheckpointSeries {
    private static final Pattern STEP = Pattern.compile("step(\\d+)");

    /** One checkpoint of a series: its directory and step ({@code -1} for a plain model directory). */
    public record Checkpoint(String uri, long step) {
    }

    private CheckpointSeries() {
    }

    /**
     * {@code uri} itself when it is a model directory (has config.json); else its {@code step<N>} subdirectories by
     * step; else an error saying what was expected.
     */
    public static List<Checkpoint> expand(String uri, Configuration conf) throws IOException {
        Path p = new Path(uri);
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p) || fs.exists(new Path(p, "config.json"))) {
            return List.of(new Checkpoint(uri, -1));   // a model directory (or a missing one, which the loader reports)
        }
        List<Checkpoint> out = new ArrayList<>();
        for (FileStatus st : fs.listStatus(p)) {
            Matcher m = STEP.matcher(st.getPath().getName());
            if (st.isDirectory() && m.matches()) {
                out.add(new Checkpoint(st.getPath().toString(), Long.parseLong(m.group(1))));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(uri + ": neither a model directory (no config.json) nor a checkpoint series (no step<N> folders)");
        }
        out.sort(Comparator.comparingLong(Checkpoint::step));
        return out;
    }
}
