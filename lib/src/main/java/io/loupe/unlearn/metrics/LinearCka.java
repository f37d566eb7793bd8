package io.loupe.unlearn.metrics;

/**
 * Linear centered kernel alignment (Kornblith et al. 2019, "Similarity of Neural Network Representations Revisited")
 * between two representations X [n, p] and Y [n, q] of the same n rows:
 * <pre>
 *   CKA(X, Y) = ||Ycᵀ Xc||²_F / (||Xcᵀ Xc||_F · ||Ycᵀ Yc||_F),    Xc = X − mean rows
 * </pre>
 * computed from sums that merge exactly across shards: n, Σx, Σy, XᵀX, YᵀY, YᵀX; centring uses
 * {@code XcᵀYc = XᵀY − n·μxμyᵀ}. Sums are kept in double precision.
 */
public final class LinearCka implements java.io.Serializable {
    private final int p;
    private final int q;
    private long n;
    private final double[] sx;
    private final double[] sy;
    private final double[] xx;   // p x p
    private final double[] yy;   // q x q
    private final double[] yx;   // q x p

    public LinearCka(int p, int q) {
        this.p = p;
        this.q = q;
        sx = new double[p];
        sy = new double[q];
        xx = new double[p * p];
        yy = new double[q * q];
        yx = new double[q * p];
    }

    /** Adds rows: {@code x} is [rows · p] and {@code y} [rows · q], row-major. */
    public LinearCka add(float[] x, float[] y, int rows) {
        if (x.length != rows * p || y.length != rows * q) {
            throw new IllegalArgumentException("CKA rows: expected " + rows + " x (" + p + ", " + q + "), got " + x.length + " and " + y.length);
        }
        for (int r = 0; r < rows; r++) {
            int ox = r * p, oy = r * q;
            for (int i = 0; i < p; i++) {
                double xi = x[ox + i];
                sx[i] += xi;
                for (int j = 0; j < p; j++) {
                    xx[i * p + j] += xi * x[ox + j];
                }
            }
            for (int i = 0; i < q; i++) {
                double yi = y[oy + i];
                sy[i] += yi;
                for (int j = 0; j < q; j++) {
                    yy[i * q + j] += yi * y[oy + j];
                }
                for (int j = 0; j < p; j++) {
                    yx[i * p + j] += yi * x[ox + j];
                }
            }
        }
        n += rows;
        return this;
    }

    /** Adds another shard's sums (same shapes). */
    public LinearCka merge(LinearCka o) {
        if (o.p != p || o.q != q) {
            throw new IllegalArgumentException("cannot merge CKA sums of different widths");
        }
        n += o.n;
        add(sx, o.sx);
        add(sy, o.sy);
        add(xx, o.xx);
        add(yy, o.yy);
        add(yx, o.yx);
        return this;
    }

    public long rows() {
        return n;
    }

    /** CKA of the rows added so far; NaN with fewer than two rows or a constant representation. */
    public double value() {
        if (n < 2) {
            return Double.NaN;
        }
        double hxy = centredFrobeniusSquared(yx, sy, sx, q, p);
        double hxx = Math.sqrt(centredFrobeniusSquared(xx, sx, sx, p, p));
        double hyy = Math.sqrt(centredFrobeniusSquared(yy, sy, sy, q, q));
        return hxx == 0 || hyy == 0 ? Double.NaN : hxy / (hxx * hyy);
    }

    /** {@code ||Aᵀ B − n μa μbᵀ||²_F} from the raw product sums. */
    private double centredFrobeniusSquared(double[] prod, double[] sa, double[] sb, int rows, int cols) {
        double total = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double c = prod[i * cols + j] - sa[i] * sb[j] / n;
                total += c * c;
            }
        }
        return total;
    }

    private static void add(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
    }
}
