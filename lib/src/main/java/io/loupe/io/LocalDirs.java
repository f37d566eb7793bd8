package io.loupe.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Local-folder housekeeping shared by the writers and the jobs' task scratch space. */
public final class LocalDirs {
    private LocalDirs() {
    }

    /** Deletes a file or a folder and everything in it; nothing happens if it does not exist. */
    public static void deleteRecursively(Path p) throws IOException {
        if (Files.exists(p)) {
            try (Stream<Path> walk = Files.walk(p)) {
                for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }
}
