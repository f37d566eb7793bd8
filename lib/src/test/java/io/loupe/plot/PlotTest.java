package io.loupe.plot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The PNG writers: readable images whose cells have the colour their value maps to. */
class PlotTest {
    @Test
    void heatmapCellsCarryTheirColour(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("h.png");
        Heatmap.write(png, "test", new double[][]{{2, -2}, {0, Double.NaN}}, "layer", "head");
        BufferedImage img = ImageIO.read(png.toFile());
        int cell = 48, left = 70, top = 40;   // two columns: the largest cell size
        assertEquals(Color.RED.getRGB(), img.getRGB(left + cell / 2, top + cell / 2), "max positive is red");
        assertEquals(Color.BLUE.getRGB(), img.getRGB(left + cell + cell / 2, top + cell / 2), "max negative is blue");
        assertEquals(Color.WHITE.getRGB(), img.getRGB(left + cell / 2, top + cell + cell / 2), "zero is white");
        assertEquals(new Color(200, 200, 200).getRGB(), img.getRGB(left + cell + cell / 2, top + cell + cell / 2), "NaN is grey");
        assertThrows(IllegalArgumentException.class, () -> Heatmap.write(png, "empty", new double[0][0], "a", "b"));
    }

    @Test
    void linePlotWritesAnImage(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("l.png");
        new LinePlot("A(D)", "D", "A").add(new LinePlot.Series("points", new double[]{1, 2, 3}, new double[]{0.5, 0.4, 0.35}, false, true))
                .add(new LinePlot.Series("fit", new double[]{1, 2, 3}, new double[]{0.5, 0.41, 0.36}, true, false)).write(png);
        assertEquals(720, ImageIO.read(png.toFile()).getWidth());
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("x", "x", "y")
                .add(new LinePlot.Series("nan", new double[]{Double.NaN}, new double[]{1}, true, true)).write(png));
        assertThrows(IllegalArgumentException.class, () -> new LinePlot("x", "x", "y").add(new LinePlot.Series("bad", new double[]{1}, new double[]{}, true, true)));
    }
}
