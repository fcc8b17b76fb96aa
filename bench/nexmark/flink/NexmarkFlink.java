// Runs one Nexmark query of bench/nexmark/flink on Flink SQL in a local
// MiniCluster (in this JVM, no Flink distribution): the DDL file (Kafka source
// table and views), then the query file (blackhole sink table and INSERT).
// The source is bounded ('scan.bounded.mode' = 'latest-offset'), so the job
// ends when it has drained the topic. Prints one JSON line on stdout:
//   {"query":"q5","parallelism":1,"net_runtime_ms":..,"job_wall_ms":..,"jvm_start_to_submit_ms":..}
// job_cpu_s is this JVM's CPU time from job submission to its end.
// net_runtime_ms is Flink's JobExecutionResult#getNetRuntime (from the job's
// start to its end: excludes JVM start, planning and job submission).
//
//   java -cp "$(scripts/flink.sh)/*:CLASSES" NexmarkFlink DDL.sql QUERY.sql PARALLELISM NAME=VALUE...
// ${NAME} in the SQL files is replaced by VALUE. With --count, the query's
// SELECT is run as SELECT count(*) in batch mode instead and the count printed
// as "rows" (a cheap cross-check of the other engines' outputs).
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

public class NexmarkFlink {
  static String substitute(String text, Map<String, String> vars) {
    Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}").matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = vars.get(m.group(1));
      if (v == null) throw new IllegalArgumentException("no value for ${" + m.group(1) + "}: pass " + m.group(1) + "=...");
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  // Statements end with ';' at the end of a line; '--' comment lines are dropped.
  static List<String> statements(String text) {
    List<String> result = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : text.split("\n")) {
      if (line.trim().startsWith("--")) continue;
      cur.append(line).append('\n');
      if (line.trim().endsWith(";")) {
        String s = cur.toString().trim();
        result.add(s.substring(0, s.length() - 1));
        cur.setLength(0);
      }
    }
    if (!cur.toString().trim().isEmpty()) result.add(cur.toString().trim());
    return result;
  }

  // utime + stime of this JVM in seconds (fields 14 and 15 of /proc/self/stat).
  static double processCpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;  // USER_HZ is 100 on Linux
    } catch (Exception e) {
      return -1;
    }
  }

  public static void main(String[] args) throws Exception {
    boolean count = false;
    List<String> pos = new ArrayList<>();
    Map<String, String> vars = new HashMap<>();
    for (String a : args) {
      if (a.equals("--count")) count = true;
      else if (pos.size() >= 3 && a.contains("=")) vars.put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
      else pos.add(a);
    }
    if (pos.size() != 3) {
      System.err.println("usage: NexmarkFlink [--count] DDL.sql QUERY.sql PARALLELISM NAME=VALUE...");
      System.exit(2);
    }
    String name = Path.of(pos.get(1)).getFileName().toString().replace(".sql", "");
    int parallelism = Integer.parseInt(pos.get(2));
    List<String> ddl = statements(substitute(Files.readString(Path.of(pos.get(0))), vars));
    List<String> query = statements(substitute(Files.readString(Path.of(pos.get(1))), vars));

    Configuration conf = new Configuration();
    conf.setString("parallelism.default", String.valueOf(parallelism));
    conf.setString("taskmanager.numberOfTaskSlots", String.valueOf(parallelism));
    conf.setString("table.exec.resource.default-parallelism", String.valueOf(parallelism));
    TableEnvironment tEnv;
    if (count) {
      tEnv = TableEnvironment.create(EnvironmentSettings.newInstance().inBatchMode().withConfiguration(conf).build());
    } else {
      StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
      tEnv = StreamTableEnvironment.create(env, EnvironmentSettings.newInstance().inStreamingMode().build());
    }
    for (String s : ddl) tEnv.executeSql(s);
    String insert = null;
    for (String s : query) {
      if (s.toUpperCase().startsWith("INSERT")) insert = s;
      else tEnv.executeSql(s);
    }
    if (insert == null) throw new IllegalArgumentException(pos.get(1) + " has no INSERT statement");
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    long submit = System.currentTimeMillis();
    double cpuBefore = processCpuSeconds();
    if (count) {
      // INSERT INTO sink SELECT ... -> SELECT count(*) FROM (SELECT ...)
      String select = insert.substring(insert.toUpperCase().indexOf("SELECT"));
      long rows = -1;
      try (CloseableIterator<Row> it = tEnv.executeSql("SELECT count(*) FROM (" + select + ")").collect()) {
        while (it.hasNext()) rows = ((Number) it.next().getField(0)).longValue();
      }
      System.out.printf("{\"query\":\"%s\",\"parallelism\":%d,\"rows\":%d,\"job_wall_ms\":%d}%n", name, parallelism,
          rows, System.currentTimeMillis() - submit);
    } else {
      TableResult result = tEnv.executeSql(insert);
      JobExecutionResult done = result.getJobClient().get().getJobExecutionResult().get();
      long end = System.currentTimeMillis();
      System.out.printf("{\"query\":\"%s\",\"parallelism\":%d,\"net_runtime_ms\":%d,\"job_wall_ms\":%d,"
              + "\"jvm_start_to_submit_ms\":%d,\"job_cpu_s\":%.2f}%n",
          name, parallelism, done.getNetRuntime(), end - submit, submit - jvmStart, processCpuSeconds() - cpuBefore);
    }
    System.exit(0);
  }
}
