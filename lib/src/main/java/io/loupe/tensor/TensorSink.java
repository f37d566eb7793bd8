package io.loupe.tensor;

import ai.djl.ndarray.NDArray;

/**
 * Where named tensors go as they are made: streamed to a file ({@link SafetensorsStream}) or held for one write
 * ({@code writer::put} of a {@link SafetensorsWriter}).
 */
@FunctionalInterface
public interface TensorSink {
    /** Takes {@code array}'s values now (dtype kept); the array may be closed once this returns. */
    void put(String name, NDArray array);
}
