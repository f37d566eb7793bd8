package io.loupe.jobs.collect;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

/**
 * Reads prompts and sorts every row into valid or skipped-with-a-reason, in one pass; duplicate ids are
 * an error (they would make outputs ambiguous and resume unsafe). Nothing is dropped without being counted.
 */
final class CollectInput {
    static final String CORRUPT = "_corrupt_record";

    /** The valid prompts ({@code id}, {@code text}, {@code token_ids}) and the count of each skip reason. */
    record Result(Dataset<Row> valid, long validCount, Map<String, Long> skipped) {
        long skippedTotal() {
            return skipped.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private CollectInput() {
    }

    static Result read(SparkSession spark, String path, String format) {
        Dataset<Row> raw = load(spark, path, format);
        Column reason = when(col(CORRUPT).isNotNull(), lit("malformed_json_or_utf8"))
                .when(col("id").isNull().or(col("id").equalTo("")), lit("missing_id"))
                .when(col("text").isNull().and(col("token_ids").isNull()), lit("missing_text"))
                .when(col("token_ids").isNotNull().and(size(col("token_ids")).equalTo(0)), lit("empty_token_ids"))
                .when(col("token_ids").isNull().and(col("text").equalTo("")), lit("empty_text"))
                .when(col("token_ids").isNull().and(col("text").contains("\uFFFD")), lit("invalid_utf8"))
                .otherwise(lit(null).cast(DataTypes.StringType));
        Dataset<Row> tagged = raw.withColumn("skip_reason", reason).cache();
        Map<String, Long> skipped = new TreeMap<>();
        long valid = 0;
        for (Row r : tagged.groupBy("skip_reason").count().collectAsList()) {
            if (r.isNullAt(0)) {
                valid = r.getLong(1);
            } else {
                skipped.put(r.getString(0), r.getLong(1));
            }
        }
        Dataset<Row> ok = tagged.filter(col("skip_reason").isNull()).select("id", "text", "token_ids");
        List<Row> dups = ok.groupBy("id").count().filter(col("count").gt(1)).limit(5).collectAsList();
        if (!dups.isEmpty()) {
            throw new IllegalArgumentException(path + ": duplicate ids, e.g. " + dups.stream().map(r -> "'" + r.getString(0) + "' x"
                    + r.getLong(1)).toList() + "; ids must be unique");
        }
        return new Result(ok, valid, skipped);
    }

    private static Dataset<Row> load(SparkSession spark, String path, String format) {
        String f = format.equals("auto") ? (path.endsWith(".json") || path.endsWith(".jsonl") ? "json" : "parquet") : format;
        if (f.equals("json")) {
            StructType schema = new StructType()
                    .add("id", DataTypes.StringType)
                    .add("text", DataTypes.StringType)
                    .add("token_ids", DataTypes.createArrayType(DataTypes.LongType))
                    .add(CORRUPT, DataTypes.StringType);
            return spark.read().schema(schema).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT).json(path);
        }
        Dataset<Row> p = spark.read().parquet(path);
        List<String> cols = Arrays.asList(p.columns());
        if (!cols.contains("id") || !(cols.contains("text") || cols.contains("token_ids"))) {
            throw new IllegalArgumentException(path + ": Parquet input needs an id column and a text or token_ids column; it has " + cols);
        }
        return p.select(col("id").cast(DataTypes.StringType).as("id"),
                cols.contains("text") ? col("text") : lit(null).cast(DataTypes.StringType).as("text"),
                cols.contains("token_ids") ? col("token_ids").cast(DataTypes.createArrayType(DataTypes.LongType)).as("token_ids")
                        : lit(null).cast(DataTypes.createArrayType(DataTypes.LongType)).as("token_ids"),
                lit(null).cast(DataTypes.StringType).as(CORRUPT));
    }
}
