package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Small helpers on NDArrays shared across packages. */
public final class Tensors {
    private Tensors() {
    }

    /** A 0-d or 1-element tensor of any numeric type as a double (DJL's typed getters require the exact type). */
    public static double scalar(NDArray a) {
        return a.toType(DataType.FLOAT64, false).getDouble();
    }
}
