package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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

    /** A contiguous copy of a strided view, or a view of the same data when it is already contiguous (libtorch's flatten copies exactly then). */
    public static NDArray contiguous(NDArray view) {
        return view.flatten().reshape(view.getShape());
    }

    /** A 0-d or 1-element tensor of any numeric type as a double (DJL's typed getters require the exact type). */
    public static double scalar(NDArray a) {
        return a.toType(DataType.FLOAT64, false).getDouble();
    }
}
