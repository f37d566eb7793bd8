package io.loupe.jobs.unlearn;

import io.loupe.jobs.RowsReader;
import io.loupe.unlearn.metrics.ScoreExample;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** An unlearning split read as {@link ScoreExample}s (driver side; splits are small next to training corpora). */
public final class UnlearningRows {
    private UnlearningRows() {
    }

    /** The split's rows in id order; an empty split is an error naming it. */
    public static List<ScoreExample> read(SparkSession spark, String path, String format, String split) {
        Dataset<Row> rows = RowsReader.read(spark, path, format);
        List<ScoreExample> out = new ArrayList<>();
        for (Row r : rows.select("id", "text", "prompt", "gt", "question", "answer", "paraphrased_answer", "perturbed_answers", "value").collectAsList()) {
            out.add(new ScoreExample(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5), r.getString(6),
                    r.isNullAt(7) ? null : r.<String>getList(7), r.getString(8)));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("the " + split + " split " + path + " has no rows");
        }
        out.sort(Comparator.comparing(ScoreExample::id));
        return out;
    }

    /**
     * Refuses a forget split that shares an id or a text with another split (the forget set must be disjoint from what
     * the gold-standard retrain saw, and from the holdout that membership inference contrasts it with).
     */
    public static void requireDisjoint(List<ScoreExample> forget, List<ScoreExample> other, String otherName) {
        java.util.Set<String> ids = new java.util.HashSet<>(), texts = new java.util.HashSet<>();
        for (ScoreExample e : other) {
            ids.add(e.id());
            texts.add(e.text());
        }
        for (ScoreExample e : forget) {
            if (ids.contains(e.id())) {
                throw new IllegalArgumentException("the forget and " + otherName + " splits share the id '" + e.id() + "'");
            }
            if (texts.contains(e.text())) {
                throw new IllegalArgumentException("the forget and " + otherName + " splits share a text (forget id '" + e.id() + "'): \""
                        + e.text() + "\"");
            }
        }
    }
}
