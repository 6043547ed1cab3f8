{{/* Names, labels and the pieces every workload shares. */}}

{{- define "rapport-guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rapport-guard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "rapport-guard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rapport-guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rapport-guard
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "scoring") */}}
{{- define "rapport-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rapport-guard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "rapport-guard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "rapport-guard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rapport-guard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the services' secrets (keys named like the variables). */}}
{{- define "rapport-guard.secretName" -}}
{{- default (printf "%s-secrets" (include "rapport-guard.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "rapport-guard.saslSecretName" -}}
{{- default (printf "%s-kafka-sasl" (include "rapport-guard.fullname" .)) .Values.kafka.sasl.existingSecret -}}
{{- end -}}

{{- define "rapport-guard.apiKeysSecretName" -}}
{{- default (printf "%s-api-keys" (include "rapport-guard.fullname" .)) .Values.apiKeys.existingSecret -}}
{{- end -}}

{{- define "rapport-guard.saslEnabled" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}

{{- define "rapport-guard.apiKeysEnabled" -}}
{{- if or .Values.apiKeys.existingSecret .Values.apiKeys.keys -}}true{{- end -}}
{{- end -}}

{{/* One variable from the services' Secret: (dict "root" $ "name" "STATE_STORE_URL" "optional" true) */}}
{{- define "rapport-guard.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "rapport-guard.secretName" .root }}
      key: {{ .name }}
      optional: {{ .optional }}
{{- end -}}

{{/* Kafka: what every pod that talks to Kafka (the services and the topic Job) needs. */}}
{{- define "rapport-guard.kafkaEnv" -}}
{{- $protocol := .Values.kafka.securityProtocol -}}
{{- if not (has $protocol (list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL")) -}}
{{- fail (printf "kafka.securityProtocol: must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got %q" $protocol) -}}
{{- end -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers: the Kafka brokers, host:port[,host:port]" .Values.kafka.bootstrapServers | quote }}
- name: KAFKA_CLIENT_ID
  value: {{ .Values.kafka.clientId | quote }}
- name: KAFKA_REQUEST_TIMEOUT_MS
  value: {{ .Values.kafka.requestTimeoutMs | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $protocol | quote }}
{{- if include "rapport-guard.saslEnabled" . }}
{{- if not (has .Values.kafka.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512")) }}
{{- fail (printf "kafka.sasl.mechanism: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q" .Values.kafka.sasl.mechanism) }}
{{- end }}
- name: KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "rapport-guard.saslSecretName" . }}
      key: {{ .Values.kafka.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "rapport-guard.saslSecretName" . }}
      key: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
{{- with .Values.kafka.tls }}
{{- if .existingSecret }}
{{- if .caKey }}
- name: KAFKA_SSL_CAFILE
  value: {{ printf "/etc/rapport-guard/kafka-tls/%s" .caKey | quote }}
{{- end }}
{{- if .certKey }}
- name: KAFKA_SSL_CERTFILE
  value: {{ printf "/etc/rapport-guard/kafka-tls/%s" .certKey | quote }}
{{- end }}
{{- if .keyKey }}
- name: KAFKA_SSL_KEYFILE
  value: {{ printf "/etc/rapport-guard/kafka-tls/%s" .keyKey | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Every setting the services and the topic Job share: Kafka, topic names, log level. */}}
{{- define "rapport-guard.commonEnv" -}}
{{ include "rapport-guard.kafkaEnv" . }}
- name: TOPIC_EVENTS
  value: {{ .Values.topics.events | quote }}
- name: TOPIC_EVENTS_DLQ
  value: {{ .Values.topics.eventsDlq | quote }}
- name: TOPIC_SCORES
  value: {{ .Values.topics.scores | quote }}
- name: TOPIC_ALERTS
  value: {{ .Values.topics.alerts | quote }}
- name: TOPIC_NOTIFICATIONS
  value: {{ .Values.topics.notifications | quote }}
- name: TOPIC_ALERTS_DLQ
  value: {{ .Values.topics.alertsDlq | quote }}
- name: TOPIC_ERASURES
  value: {{ .Values.topics.erasures | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{/* Redis TLS, for the services (the topic Job uses no Redis). */}}
{{- define "rapport-guard.redisEnv" -}}
{{- if and .Values.redis.tls.existingSecret .Values.redis.tls.caKey }}
- name: REDIS_SSL_CAFILE
  value: {{ printf "/etc/rapport-guard/redis-tls/%s" .Values.redis.tls.caKey | quote }}
{{- end }}
{{- end -}}

{{/* Tuning variables given by name: (dict "settings" .Values.scoring.settings) */}}
{{- define "rapport-guard.settingsEnv" -}}
{{- range $name, $value := .settings }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* /tmp and the Kafka TLS material; Redis's for the services only. */}}
{{- define "rapport-guard.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "rapport-guard.redisVolumes" -}}
{{- if .Values.redis.tls.existingSecret }}
- name: redis-tls
  secret:
    secretName: {{ .Values.redis.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "rapport-guard.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/rapport-guard/kafka-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "rapport-guard.redisVolumeMounts" -}}
{{- if .Values.redis.tls.existingSecret }}
- name: redis-tls
  mountPath: /etc/rapport-guard/redis-tls
  readOnly: true
{{- end }}
{{- end -}}
