package io.loupe.report;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page: JSON as nested tables, numbers to 4 significant digits, text escaped, figures inlined. */
class HtmlReportTest {
    @Test
    void numbersAreShortAndIntegersStayIntegers() {
        assertEquals("3", HtmlReport.format(3.0));
        assertEquals("0.1235", HtmlReport.format(0.123456));
        assertEquals("0.5", HtmlReport.format(0.5));
        assertEquals("1.235e-05", HtmlReport.format(1.2345e-5));
        assertEquals("NaN", HtmlReport.format(Double.NaN));
        assertEquals("[1, 2.5, x]", HtmlReport.inline(JsonParser.parseString("[1, 2.5, \"x\"]")));
        String longArray = HtmlReport.inline(JsonParser.parseString("[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]"));
        assertTrue(longArray.endsWith(", 15, … (20 values)]"), longArray);
    }

    @Test
    void rendersDocumentsTablesAndFigures() {
        ReportSection s = new ReportSection("sparsity: <out>", List.of(new ReportSection.Document("summary.json", JsonParser.parseString(
                "{\"model\": \"m&m\", \"ratio\": 0.123456, \"layers\": [{\"layer\": 0, \"a\": 1}, {\"layer\": 1, \"b\": 2}], \"empty\": []}"))),
                List.of(new ReportSection.Table("results.csv", List.of("name", "fvu"), List.of(List.of("a,b", "0.25")), 300)),
                List.of(new ReportSection.Figure("loss.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>")));
        String html = HtmlReport.render("Loupe <test>", List.of(s));
        assertTrue(html.contains("<title>Loupe &lt;test&gt;</title>") && html.contains("sparsity: &lt;out&gt;"), "titles escaped");
        assertFalse(html.contains("<out>") || html.contains("m&m"), "no raw markup from data");
        assertTrue(html.contains("<th>model</th><td>m&amp;m</td>"));
        assertTrue(html.contains("<td class=\"num\">0.1235</td>"), "numbers right-aligned and short");
        assertTrue(html.contains("<tr><th>layer</th><th>a</th><th>b</th></tr>"), "an array of objects is one table with the union of keys");
        assertTrue(html.contains("results.csv (first 1 of 300 rows)"));
        assertTrue(html.contains("<td>a,b</td>"));
        String data = Base64.getEncoder().encodeToString("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".getBytes(StandardCharsets.UTF_8));
        assertTrue(html.contains("src=\"data:image/svg+xml;base64," + data + "\""), "the SVG inlined as a data URI");
        assertFalse(html.contains("<nav>"), "one run needs no index");
        assertTrue(HtmlReport.render("two", List.of(s, s)).contains("<nav>"));
    }
}
