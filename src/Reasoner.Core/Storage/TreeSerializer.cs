using System.Diagnostics.CodeAnalysis;
using MessagePack;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Storage;

/// <summary>The MessagePack form of a tree, as stored in a record's payload.</summary>
public static class TreeSerializer
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard;

    public static byte[] Serialize(PreferenceTree tree) => MessagePackSerializer.Serialize(tree, Options);

    /// <summary>Reads a payload back; false, with the reason, when it is not exactly one tree of a schema this code understands.</summary>
    public static bool TryDeserialize(ReadOnlyMemory<byte> payload,
        [NotNullWhen(true)] out PreferenceTree? tree, [NotNullWhen(false)] out string? failure)
    {
        tree = null;
        int bytesRead;
        PreferenceTree read;
        try
        {
            read = MessagePackSerializer.Deserialize<PreferenceTree>(payload, Options, out bytesRead);
        }
        catch (MessagePackSerializationException e)
        {
            failure = $"payload does not deserialize: {e.InnerException?.Message ?? e.Message}";
            return false;
        }
        if (bytesRead != payload.Length)
            failure = $"payload has {payload.Length - bytesRead} bytes after the tree";
        else if (read.SchemaVersion > PreferenceTree.CurrentSchemaVersion)
            failure = $"schema version {read.SchemaVersion} is newer than {PreferenceTree.CurrentSchemaVersion}";
        else if (read.Problem is null || read.Nodes is not [{ IsRoot: true }, ..])
            failure = "payload is not a complete tree";
        else
        {
            tree = read;
            failure = null;
            return true;
        }
        return false;
    }
}
