package io.loupe.circuits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.loupe.hooks.HookFn;

/**
 * A 0/1 mask over the rows of an expanded batch that marks which slice of one hook point each row
 * replaces, shaped to broadcast against the activation:
 * {@code [R, T, 1]} for residual positions, {@code [R, 1, 1]} for whole attention or MLP outputs,
 * {@code [R, 1, H, 1]} for heads of {@code hook_z}.
 */
final class SliceMask {
    private final NodeType type;
    private final int rows;
    private final int width;
    private final float[] values;

    /** @param width positions for {@link NodeType#RESID_POS}, heads for {@link NodeType#HEAD}, else 1 */
    SliceMask(NodeType type, int rows, int width) {
        this.type = type;
        this.rows = rows;
        this.width = type == NodeType.RESID_POS || type == NodeType.HEAD ? width : 1;
        this.values = new float[rows * this.width];
    }

    /** Marks {@code node}'s slice in rows {@code [from, from + count)}; positions past the batch are ignored. */
    void mark(Node node, int from, int count) {
        int i = type == NodeType.RESID_POS || type == NodeType.HEAD ? node.index() : 0;
        if (i >= width) {
            return;
        }
        for (int r = from; r < from + count; r++) {
            values[r * width + i] = 1f;
        }
    }

    NDArray toArray(NDManager m, DataType dtype) {
        Shape shape = switch (type) {
            case RESID_POS -> new Shape(rows, width, 1);
            case HEAD -> new Shape(rows, 1, width, 1);
            default -> new Shape(rows, 1, 1);
        };
        return m.create(values, shape).toType(dtype, false);
    }

    /**
     * A hook that returns {@code x·(1 − mask) + source·mask}: exactly {@code x} or exactly {@code source}
     * element by element (no rounding from {@code x + (source − x)}); {@code source} broadcasts against x.
     */
    static HookFn blend(NDArray mask, NDArray source) {
        NDArray keep = mask.neg().add(1);
        return (x, p) -> x.mul(keep).add(source.mul(mask));
    }
}
