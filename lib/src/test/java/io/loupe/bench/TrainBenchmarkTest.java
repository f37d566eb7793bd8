package io.loupe.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainBenchmarkTest {
    /** Timing starts when the last warm-up step ends: with none the clock never started (it once printed 0 tokens/s). */
    @Test
    void refusesRunsItCannotTime() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainBenchmark.run(TrainBenchmark.shape25m(), 1, 8, 0, 2));
        assertTrue(e.getMessage().contains("warmup >= 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainBenchmark.run(TrainBenchmark.shape25m(), 1, 8, 1, 0));
    }
}
