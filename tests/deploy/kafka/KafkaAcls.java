// Creates Kafka ACLs through the Admin API (kafka-clients on the classpath, SASL/SCRAM as a
// super user). Reads one ACL per line on stdin: principal|resourceType|name|patternType|operation
// Run as a single source file: java -cp "libs/*" KafkaAcls.java BOOTSTRAP USER PASSWORD
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAcls {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("security.protocol", "SASL_PLAINTEXT");
    props.put("sasl.mechanism", "SCRAM-SHA-512");
    props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
        + " username=\"" + args[1] + "\" password=\"" + args[2] + "\";");
    List<AclBinding> bindings = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) continue;
      String[] f = line.trim().split("\\|");
      bindings.add(new AclBinding(
          new ResourcePattern(ResourceType.fromString(f[1]), f[2], PatternType.fromString(f[3])),
          new AccessControlEntry(f[0], "*", AclOperation.fromString(f[4]), AclPermissionType.ALLOW)));
    }
    try (Admin admin = Admin.create(props)) {
      admin.createAcls(bindings).all().get();
    }
    System.out.println(bindings.size() + " ACLs created");
  }
}
