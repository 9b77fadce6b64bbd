using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class TaskMixTests
{
    [Fact]
    public void ParsesNamesWithOptionalWeights()
    {
        var mix = TaskMix.Parse("arith:1, logic:3");
        Assert.Equal(["arith", "logic"], mix.Names);
        Assert.Equal([1.0, 3.0], mix.Weights);
        Assert.Equal("arith,logic:3", mix.ToString());
        Assert.Equal([1.0, 1.0], TaskMix.Parse("arith,logic").Weights);
    }

    [Theory]
    [InlineData("chess")]
    [InlineData("arith,arith")]
    [InlineData("arith:0")]
    [InlineData("arith:x")]
    [InlineData("")]
    public void RejectsBadMixes(string text) => Assert.Throws<ArgumentException>(() => TaskMix.Parse(text));

    [Fact]
    public void DrawsInProportionToTheWeights()
    {
        var mix = TaskMix.Parse("arith:1,logic:3");
        var random = new Random(1);
        double logicShare = Enumerable.Range(0, 20_000).Count(_ => mix.Draw(random) == 1) / 20_000.0;
        Assert.InRange(logicShare, 0.73, 0.77);
    }
}
