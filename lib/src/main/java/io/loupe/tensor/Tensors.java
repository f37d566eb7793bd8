package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** Small helpers on NDArrays shared across packages. */
public final class Tensors {
    private Tensors() {
    }

    /**
     * {@code v} as a 0-d tensor that owns its native memory, on {@code like}'s manager, device and type.
     *
     * <p>Why: DJL's {@code x.mul(Number)} (likewise div, pow, maximum, minimum) wraps the number in a tensor over a
     * Java direct buffer and closes that tensor at once. Autograd keeps the operand for the backward pass, which then
     * reads the buffer after the garbage collector may have freed it: a GC between forward and backward turns such a
     * gradient into zeros or NaN (see GradientSurvivesGcTest). Every op on a path that is differentiated takes its
     * constants from here, through {@link #times}, {@link #over} or this method.
     */
    public static NDArray constant(NDArray like, double v) {
        return like.getManager().full(new Shape(), (float) v, like.getDataType());
    }

    /** {@code x · v}, safe under autograd (see {@link #constant}). */
    public static NDArray times(NDArray x, double v) {
        return x.mul(constant(x, v));
    }

    /** {@code x / v}, safe under autograd (see {@link #constant}). */
    public static NDArray over(NDArray x, double v) {
        return x.div(constant(x, v));
    }

    /**
     * {@code x[..., start:end, ...]} on {@code axis} ({@code 0 <= start <= end <= size}): a view, through one libtorch
     * {@code slice}.
     *
     * <p>Why: DJL's {@code get(NDIndex)} slices every axis, the full ones too ({@code ":, :, 0:64"} is three
     * {@code aten::slice} calls). Under autograd each slice's backward allocates a zeroed tensor of its input's full
     * shape and copies the gradient in, so the two full-axis slices cost two more passes over the whole input. In LM
     * training's block-causal attention that was ~290 extra backward nodes a step on the 25M shape. The whole axis is
     * {@code x} itself, with no node at all.
     */
    public static NDArray slice(NDArray x, int axis, long start, long end) {
        long size = x.getShape().get(axis);
        if (start < 0 || start > end || end > size) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") of axis " + axis + " with " + size + " entries");
        }
        return start == 0 && end == size ? x : JniUtils.slice((PtNDArray) x, axis, start, end, 1);
    }

    /**
     * {@code fresh ⊙ other}, written into {@code fresh} when that is safe: grad mode is off on this thread, so no backward
     * pass can need {@code fresh}'s old values (libtorch's grad mode is per thread, on by default; DJL turns it off on the
     * thread that starts the engine and on inside a GradientCollector; asking whether a tensor requires a gradient does
     * not tell, as DJL's answer ignores gradient functions); the types match (in place keeps {@code fresh}'s type where
     * the product would promote); and {@code other} broadcasts to {@code fresh}'s shape (the result's). {@code fresh}
     * must be an intermediate nothing else reads. Same values either way; in place saves an allocation and a pass over
     * fresh memory, whose first touch costs page faults.
     */
    public static NDArray mulInto(NDArray fresh, NDArray other) {
        return inPlaceSafe(fresh, other) ? fresh.muli(other) : fresh.mul(other);
    }

    /** {@code fresh + other}, written into {@code fresh} when that is safe (see {@link #mulInto}). */
    public static NDArray addInto(NDArray fresh, NDArray other) {
        return inPlaceSafe(fresh, other) ? fresh.addi(other) : fresh.add(other);
    }

    /** {@code tanh(fresh)}, written into {@code fresh} when that is safe (see {@link #mulInto}; {@link FusedKernels#tanhInPlace}). */
    public static NDArray tanhInto(NDArray fresh) {
        return !JniUtils.isGradMode() && FusedKernels.available(fresh) ? FusedKernels.tanhInPlace(fresh) : fresh.tanh();
    }

    private static boolean inPlaceSafe(NDArray fresh, NDArray other) {
        return fresh.getDataType() == other.getDataType() && broadcastsTo(other.getShape(), fresh.getShape())
                && !JniUtils.isGradMode();
    }

    /** Whether {@code from} broadcasts to {@code to} unchanged: rank no higher, each trailing dimension 1 or equal. */
    private static boolean broadcastsTo(Shape from, Shape to) {
        int extra = to.dimension() - from.dimension();
        if (extra < 0) {
            return false;
        }
        for (int i = 0; i < from.dimension(); i++) {
            if (from.get(i) != 1 && from.get(i) != to.get(i + extra)) {
                return false;
            }
        }
        return true;
    }

    /** A contiguous copy of a strided view, or a view of the same data when it is already contiguous (libtorch's flatten copies exactly then). */
    public static NDArray contiguous(NDArray view) {
        return view.flatten().reshape(view.getShape());
    }

    /** A 0-d or 1-element tensor of any numeric type as a double (DJL's typed getters require the exact type). */
    public static double scalar(NDArray a) {
        return a.toType(DataType.FLOAT64, false).getDouble();
    }
}
