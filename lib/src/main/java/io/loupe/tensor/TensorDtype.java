package io.loupe.tensor;

import ai.djl.ndarray.types.DataType;

import java.nio.file.Path;

/** The safetensors dtypes Loupe reads and writes, with their DJL type and width. */
public enum TensorDtype {
    F64(DataType.FLOAT64, 8),
    F32(DataType.FLOAT32, 4),
    F16(DataType.FLOAT16, 2),
    BF16(DataType.BFLOAT16, 2),
    I64(DataType.INT64, 8),
    I32(DataType.INT32, 4),
    U8(DataType.UINT8, 1),
    I8(DataType.INT8, 1);

    private final DataType djl;
    private final int bytes;

    TensorDtype(DataType djl, int bytes) {
        this.djl = djl;
        this.bytes = bytes;
    }

    public DataType djl() {
        return djl;
    }

    public int bytes() {
        return bytes;
    }

    static TensorDtype parse(String name, Path file) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new InvalidTensorFileException(file + ": unsupported safetensors dtype " + name);
        }
    }

    public static TensorDtype of(DataType type) {
        for (TensorDtype t : values()) {
            if (t.djl == type) {
                return t;
            }
        }
        throw new IllegalArgumentException("no safetensors dtype for " + type);
    }
}
