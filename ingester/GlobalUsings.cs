global using MatchType = Amphora.Model.MatchType;
