package io.loupe.jobs;

import io.loupe.optim.TrainingState;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Training states on durable storage: a publish replaces the previous state whole and leaves no temporary file. */
class DurableStateTest {
    @Test
    void publishReplacesInOneStepAndFetchReadsTheLatest(@TempDir java.nio.file.Path tmp) throws Exception {
        Configuration conf = new Configuration();
        java.nio.file.Path local = Files.createDirectories(tmp.resolve("local")), back = tmp.resolve("back");
        Path remote = new Path(tmp.resolve("remote").toUri());
        assertFalse(DurableState.fetch(conf, remote, back), "nothing saved yet");
        Files.write(local.resolve(TrainingState.FILE), new byte[]{1, 2, 3});
        DurableState.publish(conf, local, remote);
        Files.write(local.resolve(TrainingState.FILE), new byte[]{4, 5, 6, 7});
        DurableState.publish(conf, local, remote);   // over an existing state
        assertTrue(DurableState.fetch(conf, remote, back));
        assertArrayEquals(new byte[]{4, 5, 6, 7}, Files.readAllBytes(back.resolve(TrainingState.FILE)));
        try (var files = Files.list(tmp.resolve("remote"))) {
            assertEquals(1, files.filter(f -> !f.getFileName().toString().endsWith(".crc")).count(), "only the state, no partial copy");
        }
    }
}
