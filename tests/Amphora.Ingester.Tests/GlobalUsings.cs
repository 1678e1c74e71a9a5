global using Xunit;
global using MatchType = Amphora.Model.MatchType;
