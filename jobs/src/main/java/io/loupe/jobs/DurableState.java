package io.loupe.jobs;

import io.loupe.optim.TrainingState;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.file.Files;

/**
 * A task's training state ({@link TrainingState#FILE}) kept on durable storage, so a retry after a lost executor
 * continues where the last save left off. A save is copied beside the state under a temporary name and renamed over
 * it (atomic on local file systems and HDFS), so a kill mid-copy leaves the previous state, never a truncated one.
 */
public final class DurableState {
    private DurableState() {
    }

    /** Copies {@code remoteDir}'s state into {@code localDir} if there is one; returns whether there was. */
    public static boolean fetch(Configuration conf, Path remoteDir, java.nio.file.Path localDir) throws IOException {
        Files.createDirectories(localDir);
        Path state = new Path(remoteDir, TrainingState.FILE);
        FileSystem fs = state.getFileSystem(conf);
        if (!fs.exists(state)) {
            return false;
        }
        fs.copyToLocalFile(false, state, new Path(localDir.resolve(TrainingState.FILE).toUri()), true);
        return true;
    }

    /** Publishes {@code localDir}'s state to {@code remoteDir}, replacing the one there in one step. */
    public static void publish(Configuration conf, java.nio.file.Path localDir, Path remoteDir) throws IOException {
        Path state = new Path(remoteDir, TrainingState.FILE), partial = new Path(remoteDir, "." + TrainingState.FILE + ".partial");
        FileSystem fs = state.getFileSystem(conf);
        fs.copyFromLocalFile(false, true, new Path(localDir.resolve(TrainingState.FILE).toUri()), partial);
        FileContext.getFileContext(fs.getUri(), conf).rename(partial, state, Options.Rename.OVERWRITE);
    }
}
