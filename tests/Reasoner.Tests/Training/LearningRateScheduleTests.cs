using Reasoner.Training.Optimization;

namespace Reasoner.Tests.Training;

public class LearningRateScheduleTests
{
    private static readonly LearningRateSchedule Schedule = new(PeakRate: 1e-3, WarmupSteps: 10, TotalSteps: 110, MinRate: 1e-4);

    [Fact]
    public void WarmupRisesLinearlyToThePeak()
    {
        Assert.Equal(1e-4, Schedule.At(0), 12);
        Assert.Equal(5e-4, Schedule.At(4), 12);
        Assert.Equal(1e-3, Schedule.At(9), 12);
        for (int s = 1; s < 10; s++) Assert.True(Schedule.At(s) > Schedule.At(s - 1));
    }

    [Fact]
    public void CosineDecaysFromPeakToMinimumAndStaysThere()
    {
        Assert.Equal(1e-3, Schedule.At(10), 12);                 // cosine starts at the peak
        Assert.Equal((1e-3 + 1e-4) / 2, Schedule.At(60), 12);    // halfway down is the midpoint
        Assert.Equal(1e-4, Schedule.At(110), 12);
        Assert.Equal(1e-4, Schedule.At(5000), 12);
        for (int s = 11; s <= 110; s++) Assert.True(Schedule.At(s) < Schedule.At(s - 1));
    }

    [Fact]
    public void NoWarmupStartsAtThePeak() =>
        Assert.Equal(1e-3, (Schedule with { WarmupSteps = 0 }).At(0), 12);
}
