package io.loupe.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JobFilesTest {
    @Test
    void csvQuotesWhatNeedsQuotingAndLeavesNaNAndNullEmpty(@TempDir java.nio.file.Path tmp) throws IOException {
        java.nio.file.Path f = tmp.resolve("t.csv");
        JobFiles.writeCsv(new Configuration(), new Path(f.toUri()), List.of("name", "value", "note"),
                List.of(Arrays.<Object>asList("a,b", 1.5, "say \"hi\""), Arrays.<Object>asList("plain", Double.NaN, null), Arrays.<Object>asList("two\nlines", 2L, "")));
        assertEquals("name,value,note\n\"a,b\",1.5,\"say \"\"hi\"\"\"\nplain,,\n\"two\nlines\",2,\n", Files.readString(f));
    }
}
