package io.loupe.collect;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.loupe.tensor.Bfloat16;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * How activation values are stored: each row's {@code values} is the little-endian bytes of
 * {@code width} numbers of this type. Read in numpy with {@code np.frombuffer(b, '<f4')} (float32),
 * {@code '<f2'} (float16), or for bfloat16 {@code (np.frombuffer(b, '<u2').astype('<u4') << 16).view('<f4')}.
 */
public enum ValueDtype {
    FLOAT32(4),
    BFLOAT16(2),
    FLOAT16(2);

    private final int bytes;

    ValueDtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public static ValueDtype parse(String s) {
        return switch (s.toLowerCase()) {
            case "float32", "f32", "fp32" -> FLOAT32;
            case "bfloat16", "bf16" -> BFLOAT16;
            case "float16", "f16", "fp16", "half" -> FLOAT16;
            default -> throw new IllegalArgumentException("unknown dtype '" + s + "': use float32, bfloat16 or float16");
        };
    }

    public String label() {
        return name().toLowerCase();
    }

    /**
     * Encodes each row of a float activation matrix.
     *
     * @param rows {@code [n, width]} float32 (any device)
     * @return n arrays of {@code width * bytes()} little-endian bytes
     */
    public byte[][] encodeRows(NDArray rows) {
        int n = (int) rows.getShape().get(0), width = (int) rows.getShape().get(1);
        byte[][] out = new byte[n][width * bytes];
        if (this == BFLOAT16) {
            // libtorch's bf16 cast aborts the JVM under DJL 0.35 on CPU; this rounding is exact and cheap next to a forward pass.
            FloatBuffer src = rows.toByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
            for (byte[] row : out) {
                ShortBuffer dst = ByteBuffer.wrap(row).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
                for (int i = 0; i < width; i++) {
                    dst.put(Bfloat16.round(src.get()));
                }
            }
            return out;
        }
        NDArray typed = this == FLOAT16 ? rows.toType(DataType.FLOAT16, false) : rows;
        ByteBuffer src = typed.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] row : out) {
            src.get(row);
        }
        return out;
    }

    /** Decodes one row's bytes back to floats (for readers and tests). */
    public float[] decode(byte[] values) {
        ByteBuffer b = ByteBuffer.wrap(values).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[values.length / bytes];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (this) {
                case FLOAT32 -> b.getFloat();
                case BFLOAT16 -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
                case FLOAT16 -> halfToFloat(b.getShort());
            };
        }
        return out;
    }

    private static float halfToFloat(short h) {
        int bits = h & 0xFFFF, sign = (bits & 0x8000) << 16, exp = (bits >>> 10) & 0x1F, mant = bits & 0x3FF;
        if (exp == 0) {
            return Float.intBitsToFloat(sign) + (sign != 0 ? -1 : 1) * mant * 0x1p-24f;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
