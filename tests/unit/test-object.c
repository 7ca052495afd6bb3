/*
 * Object model: inheritance, interfaces, property parsing and rejection, tree, globals.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite/osdep.h"
#include "kite/object.h"
#include "kite/property.h"

/* An interface with one method. */
#define TYPE_GREETER "test-greeter"
typedef struct GreeterClass {
    InterfaceClass parent;
    const char *(*greet)(Object *obj);
} GreeterClass;

static const TypeInfo greeter_type = {
    .name = TYPE_GREETER, .parent = TYPE_INTERFACE, .class_size = sizeof(GreeterClass),
};
KITE_TYPE_REGISTER(greeter_type)

/* Base type with a virtual method and static properties. */
#define TYPE_ANIMAL "test-animal"
typedef struct AnimalClass {
    ObjectClass parent;
    int (*legs)(Object *obj);
} AnimalClass;
typedef struct Animal {
    Object parent;
    uint32_t age;
    uint8_t small;
    bool tame;
    uint64_t mem;
    char *name;
    int colour;
    int32_t temp;
    Object *friend;
    int init_calls;
} Animal;
#define ANIMAL(obj) OBJECT_CHECK(Animal, obj, TYPE_ANIMAL)
#define ANIMAL_GET_CLASS(obj) OBJECT_GET_CLASS(AnimalClass, obj, TYPE_ANIMAL)

static const char *const colours[] = { "red", "green", "blue", NULL };
static const Property animal_props[] = {
    DEFINE_PROP_UINT32_RANGE("age", Animal, age, 3, 0, 100),
    DEFINE_PROP_UINT8("small", Animal, small, 7),
    DEFINE_PROP_BOOL("tame", Animal, tame, true),
    DEFINE_PROP_SIZE("mem", Animal, mem, 64 * MiB),
    DEFINE_PROP_STRING("name", Animal, name),
    DEFINE_PROP_ENUM("colour", Animal, colour, 1, colours),
    DEFINE_PROP_INT32("temp", Animal, temp, -5),
    DEFINE_PROP_LINK("friend", Animal, friend, TYPE_ANIMAL, Object *),
    DEFINE_PROP_END_OF_LIST(),
};

static int animal_legs(Object *obj)
{
    return 4;
}

static void animal_class_init(ObjectClass *oc, const void *data)
{
    ((AnimalClass *)oc)->legs = animal_legs;
}

static void animal_init(Object *obj)
{
    ANIMAL(obj)->init_calls++;
}

static const TypeInfo animal_type = {
    .name = TYPE_ANIMAL, .parent = TYPE_OBJECT, .abstract = true,
    .instance_size = sizeof(Animal), .class_size = sizeof(AnimalClass),
    .class_init = animal_class_init, .instance_init = animal_init, .props = animal_props,
};
KITE_TYPE_REGISTER(animal_type)

#define TYPE_BIRD "test-bird"
static int finalized_birds;

static int bird_legs(Object *obj)
{
    return 2;
}

static const char *bird_greet(Object *obj)
{
    return "tweet";
}

static void bird_class_init(ObjectClass *oc, const void *data)
{
    GreeterClass *gc = OBJECT_CLASS_CHECK(GreeterClass, oc, TYPE_GREETER);

    ((AnimalClass *)oc)->legs = bird_legs;
    gc->greet = bird_greet;
}

static void bird_finalize(Object *obj)
{
    finalized_birds++;
}

static const TypeInfo bird_type = {
    .name = TYPE_BIRD, .parent = TYPE_ANIMAL, .class_init = bird_class_init,
    .instance_init = animal_init, .instance_finalize = bird_finalize,
    .interfaces = (const char *const[]){ TYPE_GREETER, NULL },
};
KITE_TYPE_REGISTER(bird_type)

#define TYPE_DOG "test-dog"
static const TypeInfo dog_type = { .name = TYPE_DOG, .parent = TYPE_ANIMAL };
KITE_TYPE_REGISTER(dog_type)

static void test_inheritance(void)
{
    Object *bird = object_new(TYPE_BIRD);
    Object *dog = object_new(TYPE_DOG);
    Error *err = NULL;

    g_assert_true(object_dynamic_cast(bird, TYPE_ANIMAL) == bird);
    g_assert_true(object_dynamic_cast(bird, TYPE_OBJECT) == bird);
    g_assert_null(object_dynamic_cast(dog, TYPE_BIRD));
    /* instance_init runs once for each type in the chain that has one. */
    g_assert_cmpint(ANIMAL(bird)->init_calls, ==, 2);
    g_assert_cmpint(ANIMAL(dog)->init_calls, ==, 1);
    /* Virtual method overridden in the subclass, inherited otherwise. */
    g_assert_cmpint(ANIMAL_GET_CLASS(bird)->legs(bird), ==, 2);
    g_assert_cmpint(ANIMAL_GET_CLASS(dog)->legs(dog), ==, 4);
    /* Abstract types cannot be instantiated. */
    g_assert_null(object_new_checked(TYPE_ANIMAL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "abstract"));
    error_free(err);
    err = NULL;
    g_assert_null(object_new_checked("no-such-type", &err));
    error_free(err);
    object_unref(bird);
    object_unref(dog);
}

static void test_interface(void)
{
    Object *bird = object_new(TYPE_BIRD);
    Object *dog = object_new(TYPE_DOG);
    GreeterClass *gc;

    g_assert_true(object_dynamic_cast(bird, TYPE_GREETER) == bird);
    g_assert_null(object_dynamic_cast(dog, TYPE_GREETER));
    gc = (GreeterClass *)object_class_dynamic_cast(object_get_class(bird), TYPE_GREETER);
    g_assert_nonnull(gc);
    g_assert_cmpstr(gc->greet(bird), ==, "tweet");
    g_assert_true(gc->parent.concrete_class == object_get_class(bird));
    object_unref(bird);
    object_unref(dog);
}

static void test_defaults_and_parse(void)
{
    Object *o = object_new(TYPE_DOG);
    Animal *a = ANIMAL(o);
    Error *err = NULL;
    g_autofree char *s = NULL;

    g_assert_cmpuint(a->age, ==, 3);
    g_assert_cmpuint(a->small, ==, 7);
    g_assert_true(a->tame);
    g_assert_cmpuint(a->mem, ==, 64 * MiB);
    g_assert_null(a->name);
    g_assert_cmpint(a->colour, ==, 1);
    g_assert_cmpint(a->temp, ==, -5);

    g_assert_true(object_property_set_str(o, "mem", "1.5G", &error_abort));
    g_assert_cmpuint(a->mem, ==, 3 * GiB / 2);
    g_assert_true(object_property_set_str(o, "age", "0x10", &error_abort));
    g_assert_cmpuint(a->age, ==, 16);
    g_assert_true(object_property_set_str(o, "tame", "off", &error_abort));
    g_assert_false(a->tame);
    g_assert_true(object_property_set_str(o, "colour", "blue", &error_abort));
    g_assert_cmpint(a->colour, ==, 2);
    g_assert_true(object_property_set_str(o, "name", "rex", &error_abort));
    s = object_property_get_str(o, "name", &error_abort);
    g_assert_cmpstr(s, ==, "rex");
    g_assert_cmpint(object_property_get_int(o, "temp", &error_abort), ==, -5);
    g_assert_cmpuint(object_property_get_uint(o, "age", &error_abort), ==, 16);

    /* Rejections leave the field alone and name the property. */
    g_assert_false(object_property_set_str(o, "age", "101", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'age'"));
    g_assert_nonnull(strstr(error_get_pretty(err), "out of range"));
    error_free(err);
    err = NULL;
    g_assert_cmpuint(a->age, ==, 16);
    g_assert_false(object_property_set_str(o, "small", "256", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(o, "age", "-1", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(o, "age", "12abc", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(o, "mem", "12Q", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(o, "tame", "maybe", &err));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(o, "colour", "pink", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "red, green, blue"));
    error_free(err);
    err = NULL;
    g_assert_false(object_property_set_str(o, "nosuch", "1", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "nosuch"));
    error_free(err);
    err = NULL;

    /* Frozen (realized) objects refuse static property writes. */
    o->props_frozen = true;
    g_assert_false(object_property_set_str(o, "age", "5", &err));
    error_free(err);
    object_unref(o);
}

static void test_tree_and_links(void)
{
    Object *root = object_get_root();
    Object *zoo = container_get(root, "/zoo/pen");
    Object *bird = object_new(TYPE_BIRD);
    Object *dog = object_new(TYPE_DOG);
    Object *plain = object_new(TYPE_CONTAINER);
    Error *err = NULL;
    g_autofree char *path = NULL;
    g_autofree char *link = NULL;
    bool ambiguous;
    int before = finalized_birds;

    g_assert_true(container_get(root, "/zoo/pen") == zoo);
    g_assert_true(object_property_add_child(zoo, "tweety", bird, &error_abort));
    g_assert_true(object_property_add_child(zoo, "rex", dog, &error_abort));
    g_assert_false(object_property_add_child(zoo, "rex", plain, &err));
    error_free(err);
    err = NULL;
    path = object_get_canonical_path(bird);
    g_assert_cmpstr(path, ==, "/zoo/pen/tweety");
    g_assert_true(object_resolve_path("/zoo/pen/rex", NULL) == dog);
    g_assert_true(object_resolve_path("tweety", &ambiguous) == bird);
    g_assert_true(object_resolve_path("pen/tweety", &ambiguous) == bird);
    g_assert_null(object_resolve_path("/zoo/nothing", NULL));

    g_assert_true(object_property_set_str(dog, "friend", "/zoo/pen/tweety", &error_abort));
    g_assert_true(ANIMAL(dog)->friend == bird);
    link = object_property_get_str(dog, "friend", &error_abort);
    g_assert_cmpstr(link, ==, "/zoo/pen/tweety");
    /* A link of the wrong type is refused. */
    object_property_add_child(zoo, "box", plain, &error_abort);
    g_assert_false(object_property_set_str(dog, "friend", "/zoo/pen/box", &err));
    error_free(err);
    err = NULL;
    g_assert_true(object_property_set_link(dog, "friend", NULL, &error_abort));

    /* The tree holds references: unparent drops them and finalizes. */
    object_unref(bird);
    object_unref(dog);
    object_unref(plain);
    g_assert_cmpint(finalized_birds, ==, before);
    object_unparent(object_resolve_path("/zoo/pen/tweety", NULL));
    g_assert_cmpint(finalized_birds, ==, before + 1);
    object_unparent(zoo);
}

static void test_class_list(void)
{
    GSList *list = object_class_get_list(TYPE_ANIMAL, false);

    g_assert_cmpint(g_slist_length(list), ==, 2);   /* bird, dog; animal is abstract */
    g_assert_cmpstr(object_class_get_name(list->data), ==, TYPE_BIRD);
    g_slist_free(list);
}

static void test_globals(void)
{
    Error *err = NULL;
    Object *o;

    object_register_global(TYPE_DOG, "age", "42");
    g_assert_true(object_check_globals(&error_abort));
    o = object_new(TYPE_DOG);
    g_assert_cmpuint(ANIMAL(o)->age, ==, 42);
    object_unref(o);
    o = object_new(TYPE_BIRD);
    g_assert_cmpuint(ANIMAL(o)->age, ==, 3);
    object_unref(o);
    object_register_global(TYPE_DOG, "wings", "2");
    g_assert_false(object_check_globals(&err));
    g_assert_nonnull(strstr(error_get_pretty(err), "wings"));
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/object/inheritance", test_inheritance);
    g_test_add_func("/object/interface", test_interface);
    g_test_add_func("/object/properties", test_defaults_and_parse);
    g_test_add_func("/object/tree-and-links", test_tree_and_links);
    g_test_add_func("/object/class-list", test_class_list);
    g_test_add_func("/object/globals", test_globals);
    return g_test_run();
}
