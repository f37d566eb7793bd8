package io.loupe.plot;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;

import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A heatmap of a matrix (JFreeChart), written as PNG with an SVG twin: a diverging colour scale centred on zero (blue
 * negative, white zero, red positive, grey NaN), integer row and column axes (row 0 at the top, as a matrix is read)
 * and a colour bar.
 */
public final class Heatmap {
    static final Color NAN_GREY = new Color(200, 200, 200);

    private Heatmap() {
    }

    /**
     * @param values    {@code [rows][cols]}
     * @param rowLabel  e.g. "layer"; rows are labelled 0..rows-1
     * @param colLabel  e.g. "position" or "head"; columns are labelled 0..cols-1
     */
    public static void write(Path png, String title, double[][] values, String rowLabel, String colLabel) throws IOException {
        int rows = values.length, cols = rows == 0 ? 0 : values[0].length;
        if (rows == 0 || cols == 0) {
            throw new IllegalArgumentException("heatmap " + title + ": no values");
        }
        double max = 0;
        double[][] xyz = new double[3][rows * cols];
        for (int r = 0; r < rows; r++) {
            if (values[r].length != cols) {
                throw new IllegalArgumentException("heatmap " + title + ": row " + r + " has " + values[r].length + " values, row 0 has " + cols);
            }
            for (int c = 0; c < cols; c++) {
                double v = values[r][c];
                if (Double.isFinite(v)) {
                    max = Math.max(max, Math.abs(v));
                }
                xyz[0][r * cols + c] = c;
                xyz[1][r * cols + c] = r;
                xyz[2][r * cols + c] = v;
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("values", xyz);
        Diverging scale = new Diverging(max);
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);
        NumberAxis x = integerAxis(colLabel, cols), y = integerAxis(rowLabel, rows);
        y.setInverted(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.setTitle(new TextTitle(title, new Font(Font.SANS_SERIF, Font.BOLD, 13)));
        chart.setBackgroundPaint(Color.WHITE);
        PaintScaleLegend legend = new PaintScaleLegend(scale, new NumberAxis());
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(4, 4, 40, 4);
        legend.setStripWidth(14);
        chart.addSubtitle(legend);
        int cell = Math.max(8, Math.min(48, 720 / Math.max(cols, rows)));
        ChartFiles.write(chart, png, Math.max(360, 160 + cols * cell), Math.max(240, 120 + rows * cell));
    }

    private static NumberAxis integerAxis(String label, int n) {
        NumberAxis a = new NumberAxis(label);
        a.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        a.setRange(-0.5, n - 0.5);
        return a;
    }

    /** Blue (−max) through white (0) to red (+max); grey for NaN. */
    static Color colour(double v, double max) {
        if (!Double.isFinite(v)) {
            return NAN_GREY;
        }
        double t = max == 0 ? 0 : Math.max(-1, Math.min(1, v / max));
        int fade = (int) Math.round(255 * (1 - Math.abs(t)));
        return t >= 0 ? new Color(255, fade, fade) : new Color(fade, fade, 255);
    }

    /** {@link #colour} as a JFreeChart paint scale over [−max, max] (a zero matrix gets [−1, 1] so the bar has a span). */
    private record Diverging(double max) implements PaintScale {
        @Override
        public double getLowerBound() {
            return max == 0 ? -1 : -max;
        }

        @Override
        public double getUpperBound() {
            return max == 0 ? 1 : max;
        }

        @Override
        public Paint getPaint(double value) {
            return colour(value, max);
        }
    }
}
