package io.loupe.plot;

import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.XYPlot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chart writers: PNG and SVG twins, cells coloured by value, integer ticks where asked, log axes that skip what they cannot place. */
class PlotTest {
    @Test
    void heatmapCellsCarryTheirColour(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("h.png");
        Heatmap.write(png, "test", new double[][]{{2, -2}, {0, Double.NaN}}, "layer", "head");
        BufferedImage img = ImageIO.read(png.toFile());
        // Each of the four cells is a large block of exactly its colour.
        assertTrue(count(img, Color.RED) > 1000, "max positive is red");
        assertTrue(count(img, Color.BLUE) > 1000, "max negative is blue");
        assertTrue(count(img, Heatmap.NAN_GREY) > 1000, "NaN is grey");
        assertEquals(new Color(255, 128, 128), Heatmap.colour(1, 2), "half of max is half-faded red");
        assertEquals(Color.WHITE, Heatmap.colour(0, 2));
        String svg = Files.readString(dir.resolve("h.svg"));
        assertTrue(svg.startsWith("<?xml") || svg.startsWith("<svg"), "an SVG twin beside the PNG");
        assertTrue(svg.contains("rgb(255,0,0)") || svg.contains("#ff0000"), "the SVG has the red cell");
        assertThrows(IllegalArgumentException.class, () -> Heatmap.write(png, "empty", new double[0][0], "a", "b"));
        assertThrows(IllegalArgumentException.class, () -> Heatmap.write(png, "ragged", new double[][]{{1, 2}, {3}}, "a", "b"));
    }

    @Test
    void integerAxesTickOnlyAtWholeNumbers(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("layers.png");
        new LinePlot("per layer", "layer", "count").xAxis(LinePlot.Axis.INTEGER).yAxis(LinePlot.Axis.INTEGER)
                .add(new LinePlot.Series("a", new double[]{0, 1, 2, 3}, new double[]{3, 1, 4, 2}, true, true)).write(png);
        assertEquals(760, ImageIO.read(png.toFile()).getWidth());
        List<String> labels = texts(Files.readString(dir.resolve("layers.svg")));
        assertTrue(labels.contains("3"), "layer ticks are labelled: " + labels);
        for (String l : labels) {
            assertFalse(l.matches("-?\\d+\\.\\d+"), "no fractional tick on an integer axis: " + labels);
        }
    }

    @Test
    void logAxesSkipNonPositivePointsAndLinesKeepGaps(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("log.png");
        LinePlot plot = new LinePlot("loss vs n", "latents n", "loss").xAxis(LinePlot.Axis.LOG2).yAxis(LinePlot.Axis.LOG)
                .add(new LinePlot.Series("points", new double[]{16, 64, 256, 1024}, new double[]{0.5, 0, 0.05, 0.01}, true, true));
        plot.write(png);
        XYPlot xy = plot.chart().getXYPlot();
        LogAxis x = (LogAxis) xy.getDomainAxis(), y = (LogAxis) xy.getRangeAxis();
        assertEquals(2, x.getBase());
        assertEquals(10, y.getBase());
        assertEquals(1, x.getTickUnit().getSize(), "one tick per power of the base");
        assertEquals(0.01, y.getLowerBound(), 0.005, "the zero point is left out, not forced onto the axis");
        assertEquals(3, xy.getDataset().getItemCount(0) - 1, "the line keeps a gap where the zero was");
        assertEquals("1,024", new LinePlot.TickFormat().format(1024));
        assertEquals("0.01", new LinePlot.TickFormat().format(0.01));
        assertEquals("1E-6", new LinePlot.TickFormat().format(1e-6));
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("x", "x", "y").yAxis(LinePlot.Axis.LOG)
                .add(new LinePlot.Series("none", new double[]{1, 2}, new double[]{0, -1}, true, true)).write(png));
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("x", "x", "y")
                .add(new LinePlot.Series("nan", new double[]{Double.NaN}, new double[]{1}, true, true)).write(png));
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("x", "x", "y").add(new LinePlot.Series("bad", new double[]{1}, new double[]{}, true, true)));
    }

    private static int count(BufferedImage img, Color c) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += img.getRGB(x, y) == c.getRGB() ? 1 : 0;
            }
        }
        return n;
    }

    private static List<String> texts(String svg) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("<text[^>]*>([^<]*)</text>").matcher(svg);
        while (m.find()) {
            out.add(m.group(1).trim());
        }
        return out;
    }
}
