package io.loupe.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session for a job: the cluster's under spark-submit (which sets {@code spark.master}),
 * else local mode on every core with up to 4 attempts per task, so a failed task is retried locally too.
 */
public final class SparkSessions {
    /** Local master used when none is configured: all cores, 4 task attempts. */
    public static final String LOCAL_DEFAULT = "local[*,4]";

    /** Set once a command has started Spark, so that commands without Spark never load it just to stop it. */
    private static volatile boolean started;

    private SparkSessions() {
    }

    /**
     * Stops the session a command started, if any. Called by {@code Loupe.main} before the JVM exits, so a cluster's
     * executors are told to shut down instead of losing their driver (which they report as errors).
     */
    public static void stopIfStarted() {
        if (started) {
            scala.Option<SparkSession> s = SparkSession.getDefaultSession();
            if (s.isDefined()) {
                s.get().stop();
            }
        }
    }

    /** @param master an explicit master (e.g. {@code local[2]}), or null for spark-submit's or the local default */
    public static SparkSession getOrCreate(String appName, String master) {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName(appName)
                .config("spark.ui.showConsoleProgress", "true")
                .config("spark.sql.sources.partitionOverwriteMode", "static");
        if (master != null) {
            b.master(master);
        } else if (!conf.contains("spark.master")) {
            b.master(LOCAL_DEFAULT);
        }
        started = true;
        return b.getOrCreate();
    }
}
