package io.loupe.cluster;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.tensor.SafetensorsFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Assertions that two runs of a job wrote the same output: the same Parquet rows (numbers, and binary float32 values,
 * within a tolerance; everything else exact), the same numbers in JSON summaries, the same tensors. Timings and paths
 * are not compared. Bytes can differ in the last bits between a local and a cluster run: each executor JVM has its own
 * libtorch thread pool, and a different split of a matmul's sums rounds differently.
 */
final class SameOutput {
    /**
     * Keys and columns that differ between any two runs of the same work: timings, dates, paths, and the step a retried
     * task resumed from (its history, not its result).
     */
    private static final Pattern VARIES = Pattern.compile("(?i).*(second|_at|time|wall|path|^out$|^model$|checkpoint|dir|uri|per_s|speed|resumed).*");

    private SameOutput() {
    }

    /** Same rows in any order; numeric columns within {@code tol} relative (absolute below 1). */
    static void parquet(SparkSession spark, Path a, Path b, double tol) {
        List<Row> ra = rows(spark, a), rb = rows(spark, b);
        assertEquals(ra.size(), rb.size(), "row count: " + a + " vs " + b);
        assertTrue(ra.size() > 0, "no rows in " + a);
        for (int i = 0; i < ra.size(); i++) {
            Row x = ra.get(i), y = rb.get(i);
            for (int c = 0; c < x.length(); c++) {
                value(x.schema().fieldNames()[c] + " of " + x, x.get(c), y.get(c), tol);
            }
        }
    }

    private static List<Row> rows(SparkSession spark, Path p) {
        Dataset<Row> df = spark.read().parquet(p.toString());
        for (String c : df.columns()) {
            if (VARIES.matcher(c).matches()) {
                df = df.drop(c);
            }
        }
        List<Row> rows = new ArrayList<>(df.collectAsList());
        rows.sort(Comparator.comparing(SameOutput::key));
        return rows;
    }

    /** A row's sort key: its non-floating values, so rows pair up even when their numbers differ in the last bits. */
    private static String key(Row r) {
        StringBuilder s = new StringBuilder();
        for (int c = 0; c < r.length(); c++) {
            Object v = r.get(c);
            s.append(v instanceof Double || v instanceof Float ? "" : v instanceof byte[] bytes ? Arrays.toString(bytes) : String.valueOf(v)).append('|');
        }
        return s.toString();
    }

    private static void value(String where, Object x, Object y, double tol) {
        if (x instanceof Number nx && y instanceof Number ny && (x instanceof Double || x instanceof Float)) {
            close(where, nx.doubleValue(), ny.doubleValue(), tol);
        } else if (x instanceof byte[] bx) {
            if (tol == 0) {
                assertTrue(Arrays.equals(bx, (byte[]) y), where + ": bytes differ");
            } else {   // collect's values: little-endian float32s
                var fx = java.nio.ByteBuffer.wrap(bx).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                var fy = java.nio.ByteBuffer.wrap((byte[]) y).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                assertEquals(fx.remaining(), fy.remaining(), where);
                for (int i = 0; i < fx.remaining(); i++) {
                    close(where + "[" + i + "]", fx.get(i), fy.get(i), tol);
                }
            }
        } else if (x instanceof scala.collection.Seq<?> sx) {
            List<?> lx = scala.collection.JavaConverters.seqAsJavaList(sx), ly = scala.collection.JavaConverters.seqAsJavaList((scala.collection.Seq<?>) y);
            assertEquals(lx.size(), ly.size(), where);
            for (int i = 0; i < lx.size(); i++) {
                value(where + "[" + i + "]", lx.get(i), ly.get(i), tol);
            }
        } else {
            assertEquals(x, y, where);
        }
    }

    /** Every number of two JSON files agrees within {@code tol}, keys too; timings, dates and paths are skipped. */
    static void json(Path a, Path b, double tol) throws IOException {
        json(a.toString(), JsonParser.parseString(Files.readString(a)), JsonParser.parseString(Files.readString(b)), tol);
    }

    private static void json(String where, JsonElement x, JsonElement y, double tol) {
        if (x.isJsonObject()) {
            JsonObject ox = x.getAsJsonObject(), oy = y.getAsJsonObject();
            assertEquals(ox.keySet(), oy.keySet(), where);
            for (String k : ox.keySet()) {
                if (!VARIES.matcher(k).matches()) {
                    json(where + "." + k, ox.get(k), oy.get(k), tol);
                }
            }
        } else if (x.isJsonArray()) {
            assertEquals(x.getAsJsonArray().size(), y.getAsJsonArray().size(), where);
            for (int i = 0; i < x.getAsJsonArray().size(); i++) {
                json(where + "[" + i + "]", x.getAsJsonArray().get(i), y.getAsJsonArray().get(i), tol);
            }
        } else if (x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber()) {
            close(where, x.getAsDouble(), y.getAsDouble(), tol);
        }
    }

    /** Every tensor of two safetensors files, as float32, within {@code tol}. */
    static void tensors(Path a, Path b, double tol) throws IOException {
        SafetensorsFile fa = SafetensorsFile.open(a), fb = SafetensorsFile.open(b);
        assertEquals(fa.entries().keySet(), fb.entries().keySet(), a.toString());
        for (String name : fa.entries().keySet()) {
            ByteBuffer x = fa.bytes(name), y = fb.bytes(name);
            assertEquals(fa.entry(name).dtype(), fb.entry(name).dtype(), name);
            assertEquals("F32", fa.entry(name).dtype(), name);
            var fx = x.asFloatBuffer();
            var fy = y.asFloatBuffer();
            assertEquals(fx.remaining(), fy.remaining(), name);
            for (int i = 0; i < fx.remaining(); i++) {
                close(a + ":" + name + "[" + i + "]", fx.get(i), fy.get(i), tol);
            }
        }
    }

    private static void close(String where, double x, double y, double tol) {
        if (Double.isNaN(x) || Double.isNaN(y)) {
            assertEquals(Double.isNaN(x), Double.isNaN(y), where + ": " + x + " vs " + y);
            return;
        }
        assertTrue(Math.abs(x - y) <= tol * Math.max(1, Math.abs(x)), where + ": " + x + " vs " + y);
    }
}
