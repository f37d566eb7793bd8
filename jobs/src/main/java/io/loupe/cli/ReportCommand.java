package io.loupe.cli;

import io.loupe.jobs.RunReport;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code loupe report DIR…}: several runs' outputs on one HTML page. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Joins Loupe runs into one self-contained HTML page: for each output folder its summary JSON as tables, its CSV",
                "tables and its plots (SVG, inlined). Each job already writes <out>/report.html for itself; this puts several side by side.",
                "Example: scripts/loupe report out/demo/sparsity out/demo/circuits out/demo/train --out out/report.html"})
final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Output folders of Loupe jobs (any Hadoop URI).")
    List<String> dirs;

    @Option(names = "--out", description = "The page to write (default: out/report.html in the checkout).")
    Path out;

    @Override
    public Integer call() throws Exception {
        String html = RunReport.join(new Configuration(), dirs);
        Path page = out != null ? out : Workspace.out("report.html");
        Files.createDirectories(page.toAbsolutePath().getParent());
        Files.writeString(page, html, StandardCharsets.UTF_8);
        Console.info("report: " + dirs.size() + " run(s) -> " + page.toAbsolutePath());
        return 0;
    }
}
