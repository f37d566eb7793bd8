package io.loupe.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * bfloat16 codec at the I/O boundary. A bfloat16 is the top 16 bits of a float32, so widening is exact;
 * narrowing rounds to nearest, ties to even, and keeps NaN a NaN. Done here, not in libtorch, because
 * DJL 0.35's PyTorch engine aborts the process when casting to BFLOAT16 on CPU.
 */
public final class Bfloat16 {
    private Bfloat16() {
    }

    /** Widens little-endian bfloat16 bytes to a native-order direct float32 buffer. */
    public static ByteBuffer toFloat32(ByteBuffer bf16) {
        ShortBuffer in = bf16.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() * 4).order(ByteOrder.nativeOrder());
        FloatBuffer f = out.asFloatBuffer();
        while (in.hasRemaining()) {
            f.put(Float.intBitsToFloat((in.get() & 0xFFFF) << 16));
        }
        return out;
    }

    /** Narrows little-endian float32 bytes to little-endian bfloat16 bytes. */
    public static ByteBuffer fromFloat32(ByteBuffer f32) {
        FloatBuffer in = f32.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        ByteBuffer out = ByteBuffer.allocate(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            out.putShort(round(in.get()));
        }
        return out.flip();
    }

    /** The bfloat16 nearest to {@code x} (ties to even), as its 16 bits. */
    public static short round(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            return (short) ((bits >>> 16) | 0x0040);   // quiet NaN, sign kept
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }
}
