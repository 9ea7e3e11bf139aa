using Google.Protobuf.Collections;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Common.V1;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Privacy;

/// <summary>
/// Decides, per tenant, what of a record may reach the store: allowlisted attributes only, message content only where
/// capture is on, user identifiers only as keyed hashes. Applied by the mappers and the feedback endpoint before
/// anything is queued for storage.
/// </summary>
internal sealed class PrivacyPolicy
{
    public static readonly PrivacyPolicy Default = new(new PrivacyOptions(), []);

    private readonly bool _captureContent;
    private readonly Dictionary<string, bool> _captureByTenant;
    private readonly AttributeAllowlist _allowlist;
    private readonly UserIdHasher _hasher;

    public PrivacyPolicy(PrivacyOptions options, IEnumerable<string> legacyAllowlist)
    {
        ArgumentNullException.ThrowIfNull(options);
        _captureContent = options.CaptureContent;
        _captureByTenant = options.Tenants
            .Where(t => t.Value?.CaptureContent is not null)
            .ToDictionary(t => t.Key, t => t.Value.CaptureContent!.Value, StringComparer.Ordinal);
        _allowlist = new AttributeAllowlist(options.AttributeAllowlist.Concat(legacyAllowlist));
        _hasher = new UserIdHasher(options.UserIdHashKey);
    }

    public PrivacyPolicy(IOptions<PrivacyOptions> options, IOptions<OtlpOptions> otlp)
        : this(options.Value, otlp.Value.AttributeAllowlist)
    {
    }

    public bool CapturesContent(string tenant) => _captureByTenant.TryGetValue(tenant, out var capture) ? capture : _captureContent;

    /// <summary>
    /// The attributes an invocation record keeps, as a JSON object, or null. Content is kept when the tenant captures
    /// it (whether or not allowlisted: turning capture on is the operator asking for it); user identifiers are hashed.
    /// </summary>
    public string? StoredAttributesJson(RepeatedField<KeyValue> attributes, string tenant) =>
        StoredAttributesJson(AttributeBag.From(attributes), tenant);

    /// <inheritdoc cref="StoredAttributesJson(RepeatedField{KeyValue}, string)"/>
    public string? StoredAttributesJson(AttributeBag attributes, string tenant)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var capture = CapturesContent(tenant);
        if (_allowlist.IsEmpty && !capture)
        {
            return null;
        }

        // Only here are all of a span's values read (as Google.Protobuf's objects: one set of JSON rules for both decoders).
        return AttributeAllowlist.ToJson(attributes.ToKeyValues(), (key, value) =>
        {
            if (PrivacyAttributes.IsContent(key))
            {
                return capture ? value : null;
            }

            if (!_allowlist.Allows(key))
            {
                return null;
            }

            return PrivacyAttributes.IsUserIdentifier(key) ? HashedUserId(value) : value;
        });
    }

    /// <summary>
    /// Feedback without the predicted and actual payloads unless the tenant captures content: they are answers the
    /// agent gave and the truth about a user's case. The accuracy scored from them at ingest stays.
    /// </summary>
    public FeedbackRecord Apply(FeedbackRecord feedback)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        return CapturesContent(feedback.Tenant) || (feedback.PredictedJson is null && feedback.ActualJson is null)
            ? feedback
            : feedback with { PredictedJson = null, ActualJson = null };
    }

    private AnyValue? HashedUserId(AnyValue value)
    {
        // Only a scalar is an identifier; a list or map under a user-id key is not something that can be hashed
        // into a stable join key, so it is not kept.
        var text = value.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => value.StringValue,
            AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BytesValue => Convert.ToHexStringLower(value.BytesValue.Span),
            _ => null,
        };
        return text is null || _hasher.Hash(text) is not { } hash ? null : new AnyValue { StringValue = hash };
    }
}
