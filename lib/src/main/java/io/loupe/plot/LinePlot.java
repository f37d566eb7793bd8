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
import java.util.ArrayList;
import java.util.List;

/** A PNG line and scatter plot: series of points, each drawn as markers, as a line, or both. Plain Java2D, headless. */
public final class LinePlot {
    /** One series; {@code line} joins the points, {@code markers} draws them. */
    public record Series(String name, double[] x, double[] y, boolean line, boolean markers) {
    }

    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(255, 127, 14), new Color(148, 103, 189), new Color(140, 86, 75)};

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LinePlot add(Series s) {
        if (s.x().length != s.y().length) {
            throw new IllegalArgumentException("series " + s.name() + ": " + s.x().length + " x values but " + s.y().length + " y values");
        }
        series.add(s);
        return this;
    }

    public void write(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    x0 = Math.min(x0, s.x()[i]);
                    x1 = Math.max(x1, s.x()[i]);
                    y0 = Math.min(y0, s.y()[i]);
                    y1 = Math.max(y1, s.y()[i]);
                }
            }
        }
        if (x0 > x1) {
            throw new IllegalArgumentException("plot " + title + ": no finite points");
        }
        if (x1 == x0) {
            x0 -= 0.5;
            x1 += 0.5;
        }
        double pad = (y1 - y0) * 0.08 + (y1 == y0 ? 0.05 : 0);
        y0 -= pad;
        y1 += pad;
        int w = 720, h = 460, left = 70, right = 170, top = 40, bottom = 50, pw = w - left - right, ph = h - top - bottom;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, 8, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 4; i++) {
            double xv = x0 + (x1 - x0) * i / 4, yv = y0 + (y1 - y0) * i / 4;
            g.drawString(String.format("%.3g", xv), left + pw * i / 4 - 12, top + ph + 15);
            g.drawString(String.format("%.3g", yv), 8, top + ph - ph * i / 4 + 4);
        }
        g.drawString(xLabel, left + pw / 2 - 30, h - 12);
        g.drawString(yLabel, 8, top - 6);
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(PALETTE[k % PALETTE.length]);
            g.setStroke(new BasicStroke(2));
            int px = -1, py = -1;
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
                    px = -1;
                    continue;
                }
                int cx = left + (int) Math.round((s.x()[i] - x0) / (x1 - x0) * pw);
                int cy = top + ph - (int) Math.round((s.y()[i] - y0) / (y1 - y0) * ph);
                if (s.line() && px >= 0) {
                    g.drawLine(px, py, cx, cy);
                }
                if (s.markers()) {
                    g.fillOval(cx - 4, cy - 4, 8, 8);
                }
                px = cx;
                py = cy;
            }
            g.fillRect(left + pw + 14, top + 10 + 18 * k, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), left + pw + 32, top + 21 + 18 * k);
        }
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }
}
