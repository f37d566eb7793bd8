package io.loupe.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders runs as one self-contained HTML page: per run its JSON summaries as nested tables, its CSV tables and its
 * plots (SVG inlined as data URIs, so the page can be mailed or opened from anywhere). No scripts but one: after load it
 * reports, on the browser console, any figure that failed to render, so a broken page is visible to a test.
 */
public final class HtmlReport {
    /** Arrays longer than this are shown as their first values and a count. */
    static final int ARRAY_PREVIEW = 16;
    /** Nesting deeper than this is shown as compact JSON. */
    static final int MAX_DEPTH = 4;

    private HtmlReport() {
    }

    public static String render(String title, List<ReportSection> sections) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;")
                .append("padding-bottom:4px;margin-top:32px}h3{font-size:15px}table{border-collapse:collapse;margin:6px 0;font-size:13px}")
                .append("td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}")
                .append("td.num{text-align:right;font-variant-numeric:tabular-nums}figure{display:inline-block;margin:8px}")
                .append("figure img{max-width:760px;border:1px solid #eee}figcaption{font-size:12px;color:#555}nav a{margin-right:12px}\n")
                .append("</style></head><body>\n<h1>").append(esc(title)).append("</h1>\n");
        if (sections.size() > 1) {
            h.append("<nav>");
            for (int i = 0; i < sections.size(); i++) {
                h.append("<a href=\"#run").append(i).append("\">").append(esc(sections.get(i).title())).append("</a>");
            }
            h.append("</nav>\n");
        }
        for (int i = 0; i < sections.size(); i++) {
            section(h, i, sections.get(i));
        }
        h.append("<script>\nwindow.addEventListener('load',function(){document.querySelectorAll('img').forEach(function(im){")
                .append("if(!im.complete||im.naturalWidth===0){console.error('figure did not render: '+im.alt);}});});\n</script>\n</body></html>\n");
        return h.toString();
    }

    /** Figures alone: an HTML fragment for a notebook cell. */
    public static String figures(List<ReportSection.Figure> figures) {
        StringBuilder h = new StringBuilder("<div>\n");
        appendFigures(h, figures);
        return h.append("</div>\n").toString();
    }

    private static void appendFigures(StringBuilder h, List<ReportSection.Figure> figures) {
        for (ReportSection.Figure f : figures) {
            String data = Base64.getEncoder().encodeToString(f.svg().getBytes(StandardCharsets.UTF_8));
            h.append("<figure><img alt=\"").append(esc(f.name())).append("\" src=\"data:image/svg+xml;base64,").append(data)
                    .append("\"><figcaption>").append(esc(f.name())).append("</figcaption></figure>\n");
        }
    }

    private static void section(StringBuilder h, int index, ReportSection s) {
        h.append("<section id=\"run").append(index).append("\"><h2>").append(esc(s.title())).append("</h2>\n");
        appendFigures(h, s.figures());
        for (ReportSection.Table t : s.tables()) {
            h.append("<h3>").append(esc(t.name()));
            if (t.totalRows() > t.rows().size()) {
                h.append(" (first ").append(t.rows().size()).append(" of ").append(t.totalRows()).append(" rows)");
            }
            h.append("</h3>\n<table><tr>");
            t.header().forEach(c -> h.append("<th>").append(esc(c)).append("</th>"));
            h.append("</tr>\n");
            for (List<String> row : t.rows()) {
                h.append("<tr>");
                row.forEach(v -> cell(h, new JsonPrimitive(v), 0));
                h.append("</tr>\n");
            }
            h.append("</table>\n");
        }
        for (ReportSection.Document d : s.documents()) {
            h.append("<h3>").append(esc(d.name())).append("</h3>\n");
            value(h, d.json(), 0);
        }
        h.append("</section>\n");
    }

    /** An object as a key/value table, an array of objects as a table with one row each, anything else inline. */
    private static void value(StringBuilder h, JsonElement v, int depth) {
        if (depth > MAX_DEPTH) {
            h.append("<code>").append(esc(v.toString())).append("</code>");
        } else if (v.isJsonObject()) {
            h.append("<table>");
            for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
                h.append("<tr><th>").append(esc(e.getKey())).append("</th>");
                cell(h, e.getValue(), depth + 1);
                h.append("</tr>");
            }
            h.append("</table>\n");
        } else if (v.isJsonArray() && isTable(v.getAsJsonArray())) {
            Set<String> columns = new LinkedHashSet<>();
            v.getAsJsonArray().forEach(r -> columns.addAll(r.getAsJsonObject().keySet()));
            h.append("<table><tr>");
            columns.forEach(c -> h.append("<th>").append(esc(c)).append("</th>"));
            h.append("</tr>");
            for (JsonElement r : v.getAsJsonArray()) {
                h.append("<tr>");
                for (String c : columns) {
                    JsonElement x = r.getAsJsonObject().get(c);
                    cell(h, x == null ? new JsonPrimitive("") : x, depth + 1);
                }
                h.append("</tr>");
            }
            h.append("</table>\n");
        } else {
            h.append(esc(inline(v)));
        }
    }

    private static void cell(StringBuilder h, JsonElement v, int depth) {
        boolean numeric = v.isJsonPrimitive() && number(v.getAsJsonPrimitive()) != null;
        h.append(numeric ? "<td class=\"num\">" : "<td>");
        value(h, v, depth);
        h.append("</td>");
    }

    private static boolean isTable(JsonArray a) {
        if (a.isEmpty()) {
            return false;
        }
        for (JsonElement e : a) {
            if (!e.isJsonObject()) {
                return false;
            }
        }
        return true;
    }

    /** A scalar, or an array of scalars as its first {@link #ARRAY_PREVIEW} values and a count. */
    static String inline(JsonElement v) {
        if (v.isJsonNull()) {
            return "null";
        }
        if (v.isJsonPrimitive()) {
            Double n = number(v.getAsJsonPrimitive());
            return n != null ? format(n) : v.getAsString();
        }
        if (v.isJsonArray()) {
            JsonArray a = v.getAsJsonArray();
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < Math.min(a.size(), ARRAY_PREVIEW); i++) {
                parts.add(a.get(i).isJsonPrimitive() || a.get(i).isJsonNull() ? inline(a.get(i)) : a.get(i).toString());
            }
            return "[" + String.join(", ", parts) + (a.size() > ARRAY_PREVIEW ? ", … (" + a.size() + " values)" : "") + "]";
        }
        return v.toString();
    }

    /** Numbers, and numeric strings (CSV cells), as a double; else null. */
    private static Double number(JsonPrimitive p) {
        if (p.isNumber()) {
            return p.getAsDouble();
        }
        if (p.isString()) {
            String s = p.getAsString().trim();
            if (!s.isEmpty() && (Character.isDigit(s.charAt(0)) || s.charAt(0) == '-' || s.charAt(0) == '.') && s.length() < 40) {
                try {
                    return Double.parseDouble(s);
                } catch (NumberFormatException notANumber) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Integers as integers; others to 4 significant digits (exponent form outside [1e-3, 1e6)). */
    static String format(double x) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return String.valueOf(x);
        }
        if (x == Math.rint(x) && Math.abs(x) < 1e15) {
            return String.valueOf((long) x);
        }
        double a = Math.abs(x);
        return a >= 1e-3 && a < 1e6 ? String.format("%.4g", x).replaceFirst("(\\.\\d*?)0+$", "$1").replaceFirst("\\.$", "") : String.format("%.3e", x);
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
