package io.loupe.jobs.collect;

import io.loupe.collect.ActivationRow;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * The rows of an activation dataset. One row per token position per hook; {@code hook} is the partition
 * column, so it lives in the folder name ({@code hook=blocks.3.hook_resid_post/}).
 * <pre>
 * example_id          string   prompt id, or "id@offset" for a packed window
 * position            int      0-based position in the tokenised (or packed) sequence, BOS included
 * token_id            int      the token at that position
 * layer               int      the hook's block
 * values              binary   width little-endian numbers of the run's dtype (see _loupe.json)
 * next_token_logprob  float    log p(next token), nats; NaN at the last position
 * entropy             float    entropy of the next-token distribution, nats
 * topk_ids            array&lt;int&gt;    top-k next-token ids (only with --top-k)
 * topk_logits         array&lt;float&gt;  their logits (only with --top-k)
 * hook                string   hook-point name (partition column)
 * </pre>
 */
public final class CollectSchema {
    private CollectSchema() {
    }

    /** @param valuesMetadata dtype, widths, model and config, stored with the schema in every Parquet footer */
    public static StructType schema(boolean topK, Metadata valuesMetadata) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("example_id", DataTypes.StringType, false),
                DataTypes.createStructField("position", DataTypes.IntegerType, false),
                DataTypes.createStructField("token_id", DataTypes.IntegerType, false),
                DataTypes.createStructField("layer", DataTypes.IntegerType, false),
                new StructField("values", DataTypes.BinaryType, false, valuesMetadata),
                DataTypes.createStructField("next_token_logprob", DataTypes.FloatType, false),
                DataTypes.createStructField("entropy", DataTypes.FloatType, false)));
        if (topK) {
            f.add(DataTypes.createStructField("topk_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true));
            f.add(DataTypes.createStructField("topk_logits", DataTypes.createArrayType(DataTypes.FloatType, false), true));
        }
        f.add(DataTypes.createStructField("hook", DataTypes.StringType, false));
        return DataTypes.createStructType(f);
    }

    static Row toRow(ActivationRow r, boolean topK) {
        if (topK) {
            return RowFactory.create(r.exampleId(), r.position(), r.tokenId(), r.layer(), r.values(), r.nextTokenLogprob(), r.entropy(),
                    box(r.topkIds()), box(r.topkLogits()), r.hook());
        }
        return RowFactory.create(r.exampleId(), r.position(), r.tokenId(), r.layer(), r.values(), r.nextTokenLogprob(), r.entropy(),
                r.hook());
    }

    private static Integer[] box(int[] a) {
        Integer[] out = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static Float[] box(float[] a) {
        Float[] out = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
