package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the garbage collector and refills freed native memory with NaN, between a forward pass and its backward pass.
 * A gradient that reads a tensor whose Java owner was already dropped (DJL's constants from {@code x.mul(Number)}, see
 * {@link Tensors#constant}) comes out wrong after this; one that holds only owned tensors comes out unchanged.
 */
public final class GcChurn {
    private GcChurn() {
    }

    /** Collects garbage, lets the cleaner free dropped direct buffers, and allocates over the freed memory. */
    public static void run() {
        System.gc();
        try {
            Thread.sleep(20);   // the cleaner thread frees direct buffers after the collection
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<ByteBuffer> claim = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
            b.putFloat(0, Float.NaN).putFloat(4, Float.NaN);
            claim.add(b);
        }
    }

    /** A gradient collector that churns before each backward pass and otherwise delegates. */
    public static GradientCollector around(GradientCollector real) {
        return new GradientCollector() {
            @Override
            public void backward(NDArray target) {
                run();
                real.backward(target);
            }

            @Override
            public void zeroGradients() {
                real.zeroGradients();
            }

            @Override
            public void close() {
                real.close();
            }
        };
    }
}
