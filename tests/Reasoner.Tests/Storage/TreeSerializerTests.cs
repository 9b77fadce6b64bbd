using System.Text.Json;
using Reasoner.Core.Export;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Tests.Storage;

public class TreeSerializerTests
{
    private static string Json(PreferenceTree tree) => JsonSerializer.Serialize(tree, TreeJsonlExport.SerializerOptions);

    [Fact]
    public void EveryFieldSurvivesARoundTrip()
    {
        foreach (var seed in new[] { 1, 2, 4 })
        {
            var tree = SampleTrees.Random(seed, nodes: 12);
            Assert.True(TreeSerializer.TryDeserialize(TreeSerializer.Serialize(tree), out var back, out var failure), failure);
            // The JSON form lists every public property, so a field that is not stored would show up here.
            Assert.Equal(Json(tree), Json(back));
            Assert.Equal(TreeSerializer.Serialize(tree), TreeSerializer.Serialize(back));
            Assert.Equal(DateTimeKind.Utc, back.Timings.StartedUtc.Kind);
        }
    }

    [Fact]
    public void NullAndNonNullOptionalFieldsBothRoundTrip()
    {
        var tree = SampleTrees.Arithmetic();
        tree.Nodes[1].SelfEval = 0.75;
        tree.Nodes[1].StepValue = -0.5;
        tree.Nodes[1].DuplicateCount = 2;
        Assert.True(TreeSerializer.TryDeserialize(TreeSerializer.Serialize(tree), out var back, out _));
        Assert.Equal(Json(tree), Json(back));
        Assert.Null(back.Nodes[4].MonteCarloValue);
        Assert.Null(back.Nodes[9].Answer);
        Assert.True(back.Nodes[8].Truncated);
        Assert.Equal([5, 6], back.Nodes[1].ChildIds);
        Assert.Equal("16", back.Search.Settings["iterations"]);
    }

    [Fact]
    public void APayloadThatIsNotATreeIsRejectedWithAReason()
    {
        Assert.False(TreeSerializer.TryDeserialize("hello"u8.ToArray(), out _, out var failure));
        Assert.StartsWith("payload does not deserialize", failure);
    }

    [Fact]
    public void TrailingBytesAfterATreeAreRejected()
    {
        byte[] payload = [.. TreeSerializer.Serialize(SampleTrees.Arithmetic()), 0xC0];
        Assert.False(TreeSerializer.TryDeserialize(payload, out _, out var failure));
        Assert.Contains("after the tree", failure);
    }

    [Fact]
    public void ANewerSchemaVersionIsRejected()
    {
        var newer = new PreferenceTree
        {
            SchemaVersion = PreferenceTree.CurrentSchemaVersion + 1,
            Problem = SampleTrees.Empty().Problem,
            ModelId = "m",
            Search = SampleTrees.Empty().Search,
        };
        Assert.False(TreeSerializer.TryDeserialize(TreeSerializer.Serialize(newer), out _, out var failure));
        Assert.Contains("schema version 2", failure);
    }
}
