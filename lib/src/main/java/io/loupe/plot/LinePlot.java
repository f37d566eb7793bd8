package io.loupe.plot;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.text.DecimalFormat;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A line and scatter plot (JFreeChart), written as PNG with an SVG twin: series of points, each drawn as markers, as a
 * line, or both. Axes are linear, integer (layers, indices: ticks only at whole numbers) or logarithmic (data that spans
 * decades; non-positive points are left out, as a log axis cannot place them).
 */
public final class LinePlot {
    /** One series; {@code line} joins the points, {@code markers} draws them. */
    public record Series(String name, double[] x, double[] y, boolean line, boolean markers) {
    }

    /** How an axis is scaled and ticked: LOG ticks at powers of ten, LOG2 at powers of two (dictionary widths, batch sizes). */
    public enum Axis {
        LINEAR, INTEGER, LOG, LOG2;

        boolean log() {
            return this == LOG || this == LOG2;
        }
    }

    static final Color[] PALETTE = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(255, 127, 14), new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127)};

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private Axis xAxis = Axis.LINEAR;
    private Axis yAxis = Axis.LINEAR;
    private final List<Series> series = new ArrayList<>();

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LinePlot xAxis(Axis axis) {
        this.xAxis = axis;
        return this;
    }

    public LinePlot yAxis(Axis axis) {
        this.yAxis = axis;
        return this;
    }

    public LinePlot add(Series s) {
        if (s.x().length != s.y().length) {
            throw new IllegalArgumentException("series " + s.name() + ": " + s.x().length + " x values but " + s.y().length + " y values");
        }
        series.add(s);
        return this;
    }

    /** Writes {@code png} and the SVG beside it ({@code name.svg}). */
    public void write(Path png) throws IOException {
        ChartFiles.write(chart(), png, 760, 480);
    }

    /** The chart, before it is drawn. */
    JFreeChart chart() {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        int drawable = 0;
        for (Series s : series) {
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                if (placeable(s.x()[i], xAxis) && placeable(s.y()[i], yAxis)) {
                    xy.add(s.x()[i], s.y()[i]);
                    drawable++;
                } else if (s.line()) {
                    xy.add(s.x()[i], null);   // a gap in the line
                }
            }
            int k = data.getSeriesCount();
            data.addSeries(xy);
            renderer.setSeriesLinesVisible(k, s.line());
            renderer.setSeriesShapesVisible(k, s.markers());
            renderer.setSeriesPaint(k, PALETTE[k % PALETTE.length]);
            renderer.setSeriesStroke(k, new BasicStroke(2f));
        }
        if (drawable == 0) {
            throw new IllegalArgumentException("plot " + title + ": no finite points" + (xAxis.log() || yAxis.log() ? " (log axes need positive values)" : ""));
        }
        XYPlot plot = new XYPlot(data, axis(xLabel, xAxis, false), axis(yLabel, yAxis, true), renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(220, 220, 220));
        plot.setRangeGridlinePaint(new Color(220, 220, 220));
        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setTitle(new TextTitle(title, new Font(Font.SANS_SERIF, Font.BOLD, 14)));
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static boolean placeable(double v, Axis axis) {
        return Double.isFinite(v) && (!axis.log() || v > 0);
    }

    private static ValueAxis axis(String label, Axis kind, boolean range) {
        return switch (kind) {
            case LOG, LOG2 -> {
                LogAxis a = new LogAxis(label);
                a.setSmallestValue(1e-300);
                a.setBase(kind == Axis.LOG2 ? 2 : 10);
                a.setTickUnit(new NumberTickUnit(1));   // one tick per power of the base, labelled with its plain value
                a.setNumberFormatOverride(new TickFormat());
                yield a;
            }
            case INTEGER -> {
                NumberAxis a = new NumberAxis(label);
                a.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
                a.setAutoRangeIncludesZero(false);
                yield a;
            }
            case LINEAR -> {
                NumberAxis a = new NumberAxis(label);
                a.setAutoRangeIncludesZero(false);
                yield a;
            }
        };
    }

    /** Tick labels on log axes: plain decimals from 0.001 to 100,000 (32, 0.25), powers of ten beyond (1E-6, 1E9). */
    static final class TickFormat extends NumberFormat {
        private final DecimalFormat plain = new DecimalFormat("#,##0.####");
        private final DecimalFormat scientific = new DecimalFormat("0.##E0");

        @Override
        public StringBuffer format(double v, StringBuffer to, FieldPosition pos) {
            double a = Math.abs(v);
            return (a >= 1e-3 && a < 1e5 || a == 0 ? plain : scientific).format(v, to, pos);
        }

        @Override
        public StringBuffer format(long v, StringBuffer to, FieldPosition pos) {
            return format((double) v, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            return plain.parse(source, pos);
        }
    }
}
