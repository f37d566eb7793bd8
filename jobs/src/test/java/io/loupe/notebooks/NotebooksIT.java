package io.loupe.notebooks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.cli.Loupe;
import io.loupe.report.HeadlessChromium;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every Zeppelin note in {@code notebooks/} runs against the demo's outputs: {@code %spark} paragraphs through the
 * Scala 2.12 interpreter (scala-compiler's {@code IMain}, which Zeppelin's Spark interpreter wraps, class-based as
 * Spark's REPL is, with {@code spark}, {@code sc} and {@code sqlContext} bound as Zeppelin binds them), {@code %spark.sql}
 * paragraphs through Spark SQL on the same session, each of which must return rows. Any compile error, exception or
 * unknown interpreter fails the note. The demo's joined report is rendered in headless Chromium. Runs the demo first
 * (about 2 minutes), unless {@code LOUPE_DEMO_OUT} names a finished demo output.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NotebooksIT {
    private static final Pattern NOTE_FILE = Pattern.compile("(.+)_([0-9A-Z]{9})\\.zpln");
    private final Path root = Path.of("..").toAbsolutePath().normalize();
    private final Path work = Path.of("target/notebooks-it").toAbsolutePath();
    private Path demo;
    private SparkSession spark;

    @BeforeAll
    void demoOutputs() throws Exception {
        String given = System.getenv("LOUPE_DEMO_OUT");
        if (given != null) {
            demo = Path.of(given).toAbsolutePath();
        } else {
            demo = work.resolve("demo");
            assertEquals(0, Loupe.execute("demo", "--model", root.resolve("models/stories260k").toString(), "--out", demo.toString()),
                    "scripts/loupe demo failed");
        }
        System.setProperty("loupe.out", demo.toString());
        spark = SparkSession.builder().master("local[2]").appName("notebooks-it").config("spark.ui.enabled", "false").getOrCreate();
    }

    @AfterAll
    void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyNoteRunsAgainstTheDemo() throws Exception {
        List<Path> notes;
        try (Stream<Path> files = Files.list(root.resolve("notebooks"))) {
            notes = files.filter(f -> f.toString().endsWith(".zpln")).sorted().toList();
        }
        assertTrue(notes.size() >= 5, "one note per job family: " + notes);
        return notes.stream().map(n -> DynamicTest.dynamicTest(n.getFileName().toString(), () -> run(n)));
    }

    private void run(Path file) throws Exception {
        JsonObject note = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        Matcher m = NOTE_FILE.matcher(file.getFileName().toString());
        assertTrue(m.matches(), file + ": not <name>_<ID>.zpln with a 9-character Zeppelin id");
        assertEquals(m.group(2), note.get("id").getAsString(), file + ": the id inside differs from the one in the name");
        StringWriter log = new StringWriter();
        IMain repl = scalaInterpreter(new PrintWriter(log, true));
        try {
            int n = 0;
            for (JsonElement p : note.getAsJsonArray("paragraphs")) {
                String text = p.getAsJsonObject().get("text").getAsString();
                String interpreter = text.startsWith("%") ? text.split("\\s", 2)[0] : "%spark";
                String body = text.startsWith("%") ? text.substring(interpreter.length()).strip() : text;
                String where = file.getFileName() + " paragraph " + n++ + " (" + interpreter + ")";
                switch (interpreter) {
                    case "%md" -> assertFalse(body.isBlank(), where + ": empty");
                    case "%spark", "%spark.spark" -> {
                        log.getBuffer().setLength(0);
                        Results.Result r = repl.interpret(body);
                        if (!(r instanceof Results.Success$)) {
                            fail(where + " did not run (" + r + "):\n" + body + "\n---\n" + log);
                        }
                    }
                    case "%spark.sql" -> {
                        List<Row> rows;
                        try {
                            rows = spark.sql(body).collectAsList();
                        } catch (Exception e) {
                            throw new AssertionError(where + " failed:\n" + body, e);
                        }
                        assertFalse(rows.isEmpty(), where + " returned no rows:\n" + body);
                    }
                    default -> fail(where + ": an interpreter the test does not know");
                }
            }
        } finally {
            repl.close();
        }
    }

    /** A Scala 2.12 REPL on this JVM's classpath with the session bound as Zeppelin binds it. */
    private IMain scalaInterpreter(PrintWriter out) {
        Settings settings = new Settings();
        // Surefire/failsafe start the JVM from a manifest-only jar; the real classpath is in this property.
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        settings.classpath().value_$eq(cp);
        settings.processArgumentString("-Yrepl-class-based");
        IMain repl = new IMain(settings, out);
        scala.collection.immutable.List<String> none = scala.collection.immutable.List$.MODULE$.empty();
        bind(repl, "spark", "org.apache.spark.sql.SparkSession", spark, none, out);
        bind(repl, "sc", "org.apache.spark.SparkContext", spark.sparkContext(), none, out);
        bind(repl, "sqlContext", "org.apache.spark.sql.SQLContext", spark.sqlContext(), none, out);
        return repl;
    }

    private static void bind(IMain repl, String name, String type, Object value, scala.collection.immutable.List<String> mods, PrintWriter out) {
        Results.Result r = repl.bind(name, type, value, mods);
        assertTrue(r instanceof Results.Success$, "could not bind " + name + ": " + r);
    }

    @Test
    void theDemosJoinedReportRendersInChromium() throws Exception {
        Path page = work.resolve("report.html");
        List<String> runs = Stream.of("activations", "fit", "fit-e2e", "fit-sweep", "sparsity", "circuits", "train", "unlearning/score")
                .map(d -> demo.resolve(d).toString()).toList();
        for (String run : runs) {
            assertTrue(Files.exists(Path.of(run, "report.html")), run + ": the job wrote no report.html");
        }
        String[] args = Stream.concat(Stream.of("report", "--out", page.toString()), runs.stream()).toArray(String[]::new);
        assertEquals(0, Loupe.execute(args));
        HeadlessChromium.Page shown = HeadlessChromium.open(page, 1280, 2400);
        assertTrue(shown.errors().isEmpty(), "the report logged errors:\n" + HeadlessChromium.describe(shown.errors()));
        assertTrue(shown.inkFraction() > 0.03, "the report's screenshot is nearly blank: " + shown.inkFraction());
    }
}
