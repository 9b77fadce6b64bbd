using MessagePack;
using Reasoner.Core.Trees;

namespace Reasoner.Core.Storage;

/// <summary>The MessagePack form of a tree, as stored in a record's payload.</summary>
public static class TreeSerializer
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard;

    public static byte[] Serialize(PreferenceTree tree) => MessagePackSerializer.Serialize(tree, Options);

    /// <summary>
    /// Reads a payload back; returns null with the reason when it is not exactly one tree of a schema
    /// this code understands.
    /// </summary>
    public static PreferenceTree? TryDeserialize(ReadOnlyMemory<byte> payload, out string? failure)
    {
        PreferenceTree tree;
        int bytesRead;
        try
        {
            tree = MessagePackSerializer.Deserialize<PreferenceTree>(payload, Options, out bytesRead);
        }
        catch (MessagePackSerializationException e)
        {
            failure = $"payload does not deserialize: {e.InnerException?.Message ?? e.Message}";
            return null;
        }
        if (bytesRead != payload.Length)
            failure = $"payload has {payload.Length - bytesRead} bytes after the tree";
        else if (tree.SchemaVersion > PreferenceTree.CurrentSchemaVersion)
            failure = $"schema version {tree.SchemaVersion} is newer than {PreferenceTree.CurrentSchemaVersion}";
        else if (tree.Problem is null || tree.Nodes is not [{ IsRoot: true }, ..])
            failure = "payload is not a complete tree";
        else
            failure = null;
        return failure is null ? tree : null;
    }
}
