package io.loupe.jobs;

import io.loupe.cli.Loupe;
import io.loupe.plot.Heatmap;
import io.loupe.plot.LinePlot;
import io.loupe.report.HeadlessChromium;
import io.loupe.report.HtmlReport;
import io.loupe.report.ReportSection;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** report.html from a run folder, {@code loupe report} joining folders, and both rendered by headless Chromium. */
class RunReportTest {
    @Test
    void aRunsReportRendersInChromiumWithoutErrors(@TempDir Path dir) throws Exception {
        Path run = fakeRun(dir.resolve("sparsity"));
        RunReport.write(new Configuration(), run.toString(), "sparsity");
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("summary.json") && html.contains("results.csv") && html.contains("\"a, b\"") == false);
        assertTrue(html.contains("<td>a, b</td>"), "a quoted CSV field stays one cell");
        assertEquals(2, html.split("<img ", -1).length - 1, "both plots inlined");

        HeadlessChromium.Page page = HeadlessChromium.open(run.resolve("report.html"), 1200, 1600);
        assertTrue(page.errors().isEmpty(), "the page logged errors:\n" + HeadlessChromium.describe(page.errors()));
        assertTrue(page.inkFraction() > 0.03, "the screenshot is nearly blank: " + page.inkFraction());
    }

    @Test
    void aBrokenFigureIsReportedByTheBrowser(@TempDir Path dir) throws Exception {
        // The check above can fail: a figure that is not an image shows up as a console error.
        String html = HtmlReport.render("broken", List.of(new ReportSection("run", List.of(), List.of(),
                List.of(new ReportSection.Figure("broken.svg", "this is not svg")))));
        Path page = Files.writeString(dir.resolve("broken.html"), html);
        HeadlessChromium.Page shown = HeadlessChromium.open(page, 800, 600);
        assertTrue(shown.errors().stream().anyMatch(e -> e.contains("figure did not render: broken.svg")),
                "expected the broken figure on the console, got:\n" + HeadlessChromium.describe(shown.errors()));
    }

    @Test
    void reportJoinsRunsAndRefusesOtherFolders(@TempDir Path dir) throws Exception {
        Path a = fakeRun(dir.resolve("a")), b = fakeRun(dir.resolve("b")), page = dir.resolve("all.html");
        assertEquals(0, Loupe.execute("report", a.toString(), b.toString(), "--out", page.toString()));
        String html = Files.readString(page);
        assertTrue(html.contains("<nav>") && html.contains(a.toString()) && html.contains(b.toString()));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunReport.join(new Configuration(), List.of(empty.toString())));
        assertTrue(e.getMessage().contains("not a Loupe output"), e.getMessage());
        assertNotEquals(0, Loupe.execute("report", empty.toString(), "--out", page.toString()));
    }

    /** A folder shaped like a job's output: summary.json, a CSV with a quoted field, two plots. */
    private static Path fakeRun(Path run) throws Exception {
        Files.createDirectories(run.resolve("plots"));
        Files.writeString(run.resolve("summary.json"), "{\"model\": \"stories260k\", \"overall_activation_ratio\": 0.3141,"
                + " \"layers\": [{\"layer\": 0, \"activation_ratio\": 0.25}, {\"layer\": 1, \"activation_ratio\": 0.375}]}");
        Files.writeString(run.resolve("results.csv"), "name,fvu\n\"a, b\",0.125\nc,0.25\n");
        new LinePlot("activation ratio per layer", "layer", "ratio").xAxis(LinePlot.Axis.INTEGER)
                .add(new LinePlot.Series("ratio", new double[]{0, 1, 2}, new double[]{0.25, 0.375, 0.3}, true, true))
                .write(run.resolve("plots/ratio.png"));
        Heatmap.write(run.resolve("plots/scores.png"), "scores", new double[][]{{1, -1}, {0.5, Double.NaN}}, "layer", "head");
        return run;
    }
}
