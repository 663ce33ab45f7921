"""The issuing rules as versioned data: categories, their fields, vehicles and schedules."""
