package io.loupe.plot;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.svg.SVGGraphics2D;

import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a chart twice: {@code name.png} for viewers and {@code name.svg} (same drawing, vector) for papers and reports. */
final class ChartFiles {
    private ChartFiles() {
    }

    /** @param png where the PNG goes; the SVG goes beside it with the extension {@code .svg} */
    static void write(JFreeChart chart, Path png, int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path parent = png.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, width, height);
        SVGGraphics2D svg = new SVGGraphics2D(width, height);
        chart.draw(svg, new Rectangle2D.Double(0, 0, width, height));
        Files.writeString(svgOf(png), svg.getSVGDocument());
    }

    /** {@code dir/name.png} → {@code dir/name.svg}. */
    static Path svgOf(Path png) {
        String name = png.getFileName().toString();
        return png.resolveSibling((name.endsWith(".png") ? name.substring(0, name.length() - 4) : name) + ".svg");
    }
}
