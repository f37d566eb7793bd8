package io.loupe.report;

import com.google.gson.JsonElement;

import java.util.List;

/**
 * One run in a report: what the job wrote, gathered from its output folder.
 *
 * @param title     e.g. "sparsity: out/demo/sparsity"
 * @param documents the run's JSON files (summary.json, scaling.json, ...), rendered as nested tables
 * @param tables    its CSV tables (results.csv, leaderboard.csv)
 * @param figures   its plots, as SVG documents
 */
public record ReportSection(String title, List<Document> documents, List<Table> tables, List<Figure> figures) {
    /** A JSON file's content under its file name. */
    public record Document(String name, JsonElement json) {
    }

    /**
     * A CSV table; {@code rows} may be the first of {@code totalRows}.
     */
    public record Table(String name, List<String> header, List<List<String>> rows, int totalRows) {
    }

    /** A plot: its file name and SVG text. */
    public record Figure(String name, String svg) {
    }
}
