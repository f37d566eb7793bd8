package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Iterator;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Rows streamed through a bounded shuffle buffer, so a dataset larger than memory trains in a mixed
 * order: the buffer is filled with the first {@code capacity} rows; each row served is drawn uniformly
 * from the buffer and its slot refilled with the stream's next row. When the stream ends a new epoch
 * opens it again (a stream that mixes its files, such as a round-robin over Parquet files, mixes further).
 * Memory is {@code capacity × width} floats; the order is a function of the seed and the stream only.
 */
public final class ShuffleBufferSource implements ActivationSource {
    private final Supplier<Iterator<float[]>> open;
    private final int width;
    private final float[] buffer;
    private final int capacity;
    private final Random rnd;
    private Iterator<float[]> stream;
    private int filled;
    private long epochs;

    /**
     * @param open     opens the stream from its start (called again at each epoch); rows must be {@code width} wide
     * @param capacity rows held; the larger, the better mixed (a few times the batch at least)
     */
    public ShuffleBufferSource(Supplier<Iterator<float[]>> open, int width, int capacity, long seed) {
        if (capacity < 1 || width < 1) {
            throw new IllegalArgumentException("shuffle buffer capacity and row width must be >= 1");
        }
        this.open = open;
        this.width = width;
        this.capacity = capacity;
        this.buffer = new float[Math.multiplyExact(capacity, width)];
        this.rnd = new Random(seed);
        this.stream = open.get();
        while (filled < capacity && stream.hasNext()) {
            put(filled++, stream.next());
        }
        if (filled == 0) {
            throw new IllegalArgumentException("the activation stream is empty");
        }
    }

    @Override
    public NDArray next(NDManager manager, int n) {
        float[] out = new float[n * width];
        for (int i = 0; i < n; i++) {
            int slot = rnd.nextInt(filled);
            System.arraycopy(buffer, slot * width, out, i * width, width);
            put(slot, nextRow());
        }
        return manager.create(out, new Shape(n, width));
    }

    /** Skips by drawing and refilling exactly as {@link #next} does, without building tensors. */
    @Override
    public void skip(NDManager manager, long rows) {
        for (long i = 0; i < rows; i++) {
            put(rnd.nextInt(filled), nextRow());
        }
    }

    private float[] nextRow() {
        if (!stream.hasNext()) {
            stream = open.get();
            epochs++;
            if (!stream.hasNext()) {
                throw new IllegalStateException("the activation stream came back empty at epoch " + epochs);
            }
        }
        return stream.next();
    }

    private void put(int slot, float[] row) {
        if (row.length != width) {
            throw new IllegalArgumentException("a streamed row has width " + row.length + ", expected " + width);
        }
        System.arraycopy(row, 0, buffer, slot * width, width);
    }

    /** Times the stream was reopened. */
    public long epochs() {
        return epochs;
    }

    /** Rows currently held (the capacity, or the whole stream if it is smaller). */
    public int held() {
        return filled;
    }

    @Override
    public int width() {
        return width;
    }
}
