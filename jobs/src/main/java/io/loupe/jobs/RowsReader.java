package io.loupe.jobs;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * Reads rows of JSONL or Parquet (any Hadoop URI) with an {@code id} and any of the fields Loupe's text inputs use,
 * as one schema: {@code text}, {@code token_ids}, {@code question}, {@code answer}, {@code prompt}, {@code gt},
 * {@code paraphrased_answer}, {@code perturbed_answers}, {@code value} (the fact a QA row states). Absent columns are null. Malformed lines, a missing id
 * and duplicate ids are errors that give a count and examples: inputs that train or score models are not skipped
 * silently.
 */
public final class RowsReader {
    private static final String CORRUPT = "_corrupt_record";
    /** The columns every reader returns, in this order. */
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType)
            .add("text", DataTypes.StringType)
            .add("token_ids", DataTypes.createArrayType(DataTypes.LongType))
            .add("question", DataTypes.StringType)
            .add("answer", DataTypes.StringType)
            .add("prompt", DataTypes.StringType)
            .add("gt", DataTypes.StringType)
            .add("paraphrased_answer", DataTypes.StringType)
            .add("perturbed_answers", DataTypes.createArrayType(DataTypes.StringType))
            .add("value", DataTypes.StringType);

    private RowsReader() {
    }

    /** @param format {@code auto} (by extension: .json/.jsonl is JSON, else Parquet), {@code json} or {@code parquet} */
    public static Dataset<Row> read(SparkSession spark, String path, String format) {
        String f = format.equals("auto") ? (path.endsWith(".json") || path.endsWith(".jsonl") ? "json" : "parquet") : format;
        Dataset<Row> rows;
        if (f.equals("json")) {
            Dataset<Row> raw = spark.read().schema(SCHEMA.add(CORRUPT, DataTypes.StringType)).option("mode", "PERMISSIVE")
                    .option("columnNameOfCorruptRecord", CORRUPT).json(path).cache();
            List<Row> bad = raw.filter(col(CORRUPT).isNotNull()).select(CORRUPT).limit(3).collectAsList();
            if (!bad.isEmpty()) {
                long n = raw.filter(col(CORRUPT).isNotNull()).count();
                throw new IllegalArgumentException(path + ": " + n + " line(s) are not JSON objects with these fields' types, e.g. "
                        + bad.stream().map(r -> abbreviate(r.getString(0))).toList());
            }
            rows = raw.drop(CORRUPT);
        } else if (f.equals("parquet")) {
            Dataset<Row> p = spark.read().parquet(path);
            List<String> have = Arrays.asList(p.columns());
            List<Column> cols = new ArrayList<>();
            for (StructField field : SCHEMA.fields()) {
                cols.add(have.contains(field.name()) ? col(field.name()).cast(field.dataType()).as(field.name())
                        : lit(null).cast(field.dataType()).as(field.name()));
            }
            rows = p.select(cols.toArray(Column[]::new));
        } else {
            throw new IllegalArgumentException("unknown input format '" + format + "': use auto, json or parquet");
        }
        long missing = rows.filter(col("id").isNull().or(col("id").equalTo(""))).count();
        if (missing > 0) {
            throw new IllegalArgumentException(path + ": " + missing + " row(s) have no id");
        }
        List<Row> dups = rows.groupBy("id").count().filter(col("count").gt(1)).limit(5).collectAsList();
        if (!dups.isEmpty()) {
            throw new IllegalArgumentException(path + ": duplicate ids, e.g. " + dups.stream().map(r -> "'" + r.getString(0) + "' x" + r.getLong(1))
                    .toList() + "; ids must be unique");
        }
        return rows;
    }

    /** The type of a column in {@link #SCHEMA}. */
    public static DataType type(String column) {
        return SCHEMA.apply(column).dataType();
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
