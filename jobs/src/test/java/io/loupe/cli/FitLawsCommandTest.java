package io.loupe.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.dict.ScalingLaws;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fit-laws on a sweep table whose FVUs follow planted laws: the command's scaling.json gives the constants back. */
class FitLawsCommandTest {
    private static final double[] JOINT = {-0.50, 0.26, -0.017, -0.042, -1.32, -0.085};

    @Test
    void plantedLawsComeBackFromAResultsTable(@TempDir Path tmp) throws Exception {
        ScalingLaws.Law planted = new ScalingLaws.Law("joint", JOINT, new double[6], 0);
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        for (int e = 8; e <= 14; e++) {
            for (long k : new long[]{8, 16, 32, 64}) {
                double l = planted.at(Math.pow(2, e), k);
                // Two learning rates per point: the law is stated at the better one.
                rows.add(RowFactory.create("blocks.2.hook_resid_post", "topk", (long) Math.pow(2, e), k, l, 1e-3));
                rows.add(RowFactory.create("blocks.2.hook_resid_post", "topk", (long) Math.pow(2, e), k, l * 1.3, 3e-3));
            }
        }
        rows.add(RowFactory.create("blocks.2.hook_resid_post", "relu", 256L, 16L, 0.4, 1e-3));
        StructType schema = new StructType().add("hook", DataTypes.StringType).add("architecture", DataTypes.StringType)
                .add("d_sae", DataTypes.LongType).add("k", DataTypes.LongType).add("fvu", DataTypes.DoubleType).add("lr", DataTypes.DoubleType);
        SparkSession spark = SparkSession.builder().master("local[2,4]").getOrCreate();   // the master every test of this JVM shares
        Path sweep = tmp.resolve("sweep");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(sweep.resolve("results.parquet").toString());

        assertEquals(0, Loupe.execute("fit-laws", "--results", sweep.toString(), "--master", "local[2,4]"));
        JsonObject json = JsonParser.parseString(Files.readString(sweep.resolve("scaling.json"))).getAsJsonObject();
        JsonObject group = json.getAsJsonArray("groups").get(0).getAsJsonObject();
        assertEquals("topk", group.get("architecture").getAsString());
        assertEquals(28, group.getAsJsonArray("points").size(), "7 widths x 4 k, the better learning rate of each");
        JsonObject joint = group.getAsJsonObject("joint").getAsJsonObject("params");
        String[] names = {"alpha", "beta_k", "beta_n", "gamma", "zeta", "eta"};
        for (int i = 0; i < names.length; i++) {
            assertEquals(JOINT[i], joint.get(names[i]).getAsDouble(), 1e-4, names[i]);
        }
        assertEquals(4, group.getAsJsonArray("latents").size(), "a latents law for each k");
        assertTrue(json.getAsJsonArray("skipped").toString().contains("relu"), "the ReLU row is reported as skipped");
        assertTrue(Files.size(sweep.resolve("plots/scaling_blocks.2.hook_resid_post_topk.png")) > 1000);

        // A folder without results.parquet, and a sweep with too few widths, are refused with what is missing.
        CliRun none = CliRun.of("fit-laws", "--results", tmp.resolve("none").toString(), "--master", "local[2,4]");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no results.parquet"), none.err());
        Path small = tmp.resolve("small");
        spark.createDataFrame(rows.subList(0, 6), schema).coalesce(1).write().parquet(small.resolve("results.parquet").toString());
        CliRun tooFew = CliRun.of("fit-laws", "--results", small.toString(), "--master", "local[2,4]");
        assertEquals(2, tooFew.code());
        assertTrue(tooFew.err().contains("nothing to fit") && tooFew.err().contains("needs 4"), tooFew.err());
    }
}
