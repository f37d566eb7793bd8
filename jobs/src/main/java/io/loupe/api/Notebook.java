package io.loupe.api;

import io.loupe.jobs.RunReport;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;

/** What a notebook shows besides tables: a run's plots as a Zeppelin {@code %html} result ({@code println(Notebook.plots(spark, dir))}). */
public final class Notebook {
    private Notebook() {
    }

    /** The run's plots (SVG, inlined) prefixed with Zeppelin's {@code %html} display marker; Databricks' displayHTML takes the rest. */
    public static String plots(SparkSession spark, String dir) throws IOException {
        return "%html " + RunReport.figuresHtml(spark.sparkContext().hadoopConfiguration(), dir);
    }
}
