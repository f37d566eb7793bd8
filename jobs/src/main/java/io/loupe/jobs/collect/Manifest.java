package io.loupe.jobs.collect;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code _loupe.json} at the dataset root: what the dataset holds (model, hooks, widths, dtype, the
 * encoding of {@code values}), the run's settings, and its progress (committed chunks and counts).
 * Rewritten before the first chunk and after every committed chunk, atomically (write, then rename).
 * {@code "complete": false} until the run's last chunk has committed, so a killed or stopped collect never
 * looks whole; readers refuse such a dataset unless told {@code --allow-incomplete}. Spark's {@code _SUCCESS}
 * marker follows the same rule: it is written only when the dataset is complete.
 */
public final class Manifest {
    public static final String NAME = "_loupe.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

    private final JsonObject json;

    Manifest(JsonObject json) {
        this.json = json;
    }

    static Manifest readIfExists(FileSystem fs, Path root) throws IOException {
        Path p = new Path(root, NAME);
        if (!fs.exists(p)) {
            return null;
        }
        try (var in = fs.open(p)) {
            return new Manifest(JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject());
        }
    }

    /** The manifest of a collect dataset at any Hadoop URI; a clear error if it is not one. */
    public static JsonObject read(org.apache.hadoop.conf.Configuration conf, String dataset) throws IOException {
        Path root = new Path(dataset);
        Manifest m = readIfExists(root.getFileSystem(conf), root);
        if (m == null) {
            throw new IllegalArgumentException(dataset + ": no " + NAME + "; not a collect output");
        }
        return m.json;
    }

    /**
     * The manifest of a dataset a job is about to read: refused, saying what is missing, when the collect run
     * that made it has not finished, unless {@code allowIncomplete}.
     */
    public static JsonObject readForUse(org.apache.hadoop.conf.Configuration conf, String dataset, boolean allowIncomplete) throws IOException {
        JsonObject json = read(conf, dataset);
        String missing = missing(json);
        if (missing != null && !allowIncomplete) {
            throw new IllegalArgumentException(dataset + " is incomplete: " + missing + ". Finish it with collect --mode resume, or pass"
                    + " --allow-incomplete to use the rows it has");
        }
        return json;
    }

    /** What an incomplete dataset lacks, or null when it is complete. */
    static String missing(JsonObject json) {
        if (!json.has(COMPLETE)) {
            return "its " + NAME + " has no \"" + COMPLETE + "\" flag (written by a Loupe that did not record one)";
        }
        if (json.get(COMPLETE).getAsBoolean()) {
            return null;
        }
        long done = json.has("chunks_committed_this_run") ? json.get("chunks_committed_this_run").getAsLong() : 0;
        long all = json.has("chunks_this_run") ? json.get("chunks_this_run").getAsLong() : 0;
        return "the collect run that writes it committed " + done + " of " + all + " chunks (" + json.getAsJsonObject("counts").get("examples")
                + " examples so far)";
    }

    static final String COMPLETE = "complete";

    JsonObject json() {
        return json;
    }

    /** The content settings recorded by the run that made the dataset. */
    JsonObject settings() {
        return json.getAsJsonObject("settings");
    }

    long count(String key) {
        JsonObject c = json.getAsJsonObject("counts");
        return c != null && c.has(key) ? c.get(key).getAsLong() : 0;
    }

    void write(FileSystem fs, Path root) throws IOException {
        Path tmp = new Path(root, NAME + ".tmp");
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(GSON.toJson(json).getBytes(StandardCharsets.UTF_8));
        }
        Path dst = new Path(root, NAME);
        fs.delete(dst, false);
        if (!fs.rename(tmp, dst)) {
            throw new IOException("could not rename " + tmp + " to " + dst);
        }
    }

    static JsonObject toJson(Object o) {
        return GSON.toJsonTree(o).getAsJsonObject();
    }
}
