package io.loupe.plot;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A PNG heatmap of a matrix with a diverging colour scale centred on zero (blue negative, white zero,
 * red positive, grey NaN), axis labels and a colour bar. Plain Java2D, headless.
 */
public final class Heatmap {
    private Heatmap() {
    }

    /**
     * @param values    {@code [rows][cols]}
     * @param rowLabel  e.g. "layer"; rows are labelled 0..rows-1
     * @param colLabel  e.g. "position" or "head"; columns are labelled 0..cols-1
     */
    public static void write(Path png, String title, double[][] values, String rowLabel, String colLabel) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int rows = values.length, cols = rows == 0 ? 0 : values[0].length;
        if (rows == 0 || cols == 0) {
            throw new IllegalArgumentException("heatmap " + title + ": no values");
        }
        int cell = Math.max(8, Math.min(48, 720 / Math.max(cols, rows)));
        int left = 70, top = 40, bottom = 50, barW = 90;
        int w = left + cols * cell + barW, h = top + rows * cell + bottom;
        double max = 0;
        for (double[] r : values) {
            for (double v : r) {
                if (Double.isFinite(v)) {
                    max = Math.max(max, Math.abs(v));
                }
            }
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                g.setColor(colour(values[r][c], max));
                g.fillRect(left + c * cell, top + r * cell, cell, cell);
            }
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1));
        g.drawRect(left, top, cols * cell, rows * cell);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, 8, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int colStep = Math.max(1, (int) Math.ceil(24.0 / cell)), rowStep = Math.max(1, (int) Math.ceil(14.0 / cell));
        for (int c = 0; c < cols; c += colStep) {
            g.drawString(String.valueOf(c), left + c * cell + cell / 2 - 4, top + rows * cell + 14);
        }
        for (int r = 0; r < rows; r += rowStep) {
            g.drawString(String.valueOf(r), left - 22, top + r * cell + cell / 2 + 4);
        }
        g.drawString(colLabel, left + cols * cell / 2 - 20, top + rows * cell + 32);
        g.drawString(rowLabel, 6, top + rows * cell / 2);
        int bx = left + cols * cell + 20, bh = Math.max(60, rows * cell);
        for (int y = 0; y < bh; y++) {
            g.setColor(colour(max - 2 * max * y / (bh - 1.0), max));
            g.fillRect(bx, top + y, 14, 1);
        }
        g.setColor(Color.BLACK);
        g.drawString(String.format("%.3g", max), bx + 18, top + 10);
        g.drawString("0", bx + 18, top + bh / 2 + 4);
        g.drawString(String.format("%.3g", -max), bx + 18, top + bh);
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }

    /** Blue (−max) through white (0) to red (+max); grey for NaN. */
    static Color colour(double v, double max) {
        if (!Double.isFinite(v)) {
            return new Color(200, 200, 200);
        }
        double t = max == 0 ? 0 : Math.max(-1, Math.min(1, v / max));
        int fade = (int) Math.round(255 * (1 - Math.abs(t)));
        return t >= 0 ? new Color(255, fade, fade) : new Color(fade, fade, 255);
    }
}
