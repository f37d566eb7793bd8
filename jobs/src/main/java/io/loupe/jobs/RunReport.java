package io.loupe.jobs;

import com.google.gson.JsonParser;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import io.loupe.report.HtmlReport;
import io.loupe.report.ReportSection;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * {@code report.html} for a run: what the job left in its output folder (its JSON summaries, CSV tables and
 * {@code plots/*.svg}) rendered by {@link HtmlReport}. Every job writes one for itself at the end; {@code loupe report}
 * joins several folders into one page with the same code.
 */
public final class RunReport {
    /** JSON files a job writes at the top of its folder, in the order they are shown. */
    static final List<String> DOCUMENTS = List.of("summary.json", "scaling.json", "_loupe.json", "metrics.json");
    /** CSV rows shown per table. */
    static final int MAX_ROWS = 200;

    private RunReport() {
    }

    /** Writes {@code out/report.html} for the run in {@code out}, titled e.g. "sparsity". */
    public static void write(Configuration conf, String out, String job) throws IOException {
        Path dir = new Path(out);
        String html = HtmlReport.render("Loupe " + job + ": " + dir.getName(), List.of(section(conf, dir, job + ": " + out)));
        try (var os = dir.getFileSystem(conf).create(new Path(dir, "report.html"), true)) {
            os.write(html.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** One page for several runs. */
    public static String join(Configuration conf, List<String> dirs) throws IOException {
        List<ReportSection> sections = new ArrayList<>();
        for (String d : dirs) {
            sections.add(section(conf, new Path(d), d));
        }
        return HtmlReport.render("Loupe report: " + dirs.size() + (dirs.size() == 1 ? " run" : " runs"), sections);
    }

    /** The run's plots alone, as an HTML fragment (for a notebook's {@code %html} output). */
    public static String figuresHtml(Configuration conf, String dir) throws IOException {
        Path p = new Path(dir);
        List<ReportSection.Figure> figures = figures(p.getFileSystem(conf), p);
        if (figures.isEmpty()) {
            section(conf, p, dir);   // refuses a folder that is not a run's; a run without plots shows none
        }
        return HtmlReport.figures(figures);
    }

    /** What {@code dir} holds; a folder with none of a run's files is refused. */
    static ReportSection section(Configuration conf, Path dir, String title) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.getFileStatus(dir).isDirectory()) {
            throw new IllegalArgumentException(dir + ": not a folder");
        }
        List<ReportSection.Document> documents = new ArrayList<>();
        for (String name : DOCUMENTS) {
            Path p = new Path(dir, name);
            if (fs.exists(p)) {
                documents.add(new ReportSection.Document(name, JsonParser.parseString(read(fs, p))));
            }
        }
        List<ReportSection.Table> tables = new ArrayList<>();
        for (FileStatus f : sorted(fs.listStatus(dir))) {
            if (f.isFile() && f.getPath().getName().endsWith(".csv")) {
                tables.add(table(fs, f.getPath()));
            }
        }
        List<ReportSection.Figure> figures = figures(fs, dir);
        if (documents.isEmpty() && tables.isEmpty() && figures.isEmpty()) {
            throw new IllegalArgumentException(dir + ": not a Loupe output (no " + String.join(", ", DOCUMENTS) + ", *.csv or plots/*.svg)");
        }
        return new ReportSection(title, documents, tables, figures);
    }

    /** The run's {@code plots/*.svg}, by name. */
    private static List<ReportSection.Figure> figures(FileSystem fs, Path dir) throws IOException {
        List<ReportSection.Figure> figures = new ArrayList<>();
        Path plots = new Path(dir, "plots");
        if (fs.exists(plots)) {
            for (FileStatus f : sorted(fs.listStatus(plots))) {
                if (f.getPath().getName().endsWith(".svg")) {
                    figures.add(new ReportSection.Figure(f.getPath().getName(), read(fs, f.getPath())));
                }
            }
        }
        return figures;
    }

    private static ReportSection.Table table(FileSystem fs, Path csv) throws IOException {
        CsvParserSettings settings = new CsvParserSettings();
        settings.setHeaderExtractionEnabled(true);
        settings.setNullValue("");
        settings.setMaxCharsPerColumn(-1);
        CsvParser parser = new CsvParser(settings);
        List<List<String>> rows = new ArrayList<>();
        int total = 0;
        try (InputStream in = fs.open(csv)) {
            parser.beginParsing(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String[] r; (r = parser.parseNext()) != null; total++) {
                if (rows.size() < MAX_ROWS) {
                    rows.add(Arrays.stream(r).map(v -> v == null ? "" : v).toList());
                }
            }
            String[] header = parser.getContext().headers();
            return new ReportSection.Table(csv.getName(), header == null ? List.of() : List.of(header), rows, total);
        } finally {
            parser.stopParsing();
        }
    }

    private static List<FileStatus> sorted(FileStatus[] files) {
        return Arrays.stream(files).sorted(Comparator.comparing(f -> f.getPath().getName())).toList();
    }

    private static String read(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
